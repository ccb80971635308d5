// Home's upcoming calls (appointments): booked or running scheduled calls with Start (the doctor
// who booked it) or Join (through the waiting room), and Cancel; doctors book new ones here.
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { BackendEvents, Call, Contact } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage, formatTime } from '../format.js';
import { Icon } from '../icons.js';
import { navigate } from '../router.js';
import { ScheduleCallForm } from './ScheduleCallForm.js';

/** Events after which the list may have changed. */
const CHANGES = [
  'callScheduled',
  'callStarted',
  'callCancelled',
  'callMissed',
  'callEnded',
  'callDeclined',
  'callAccepted',
] as const satisfies readonly (keyof BackendEvents)[];

export function UpcomingCalls({ contacts }: { contacts: Contact[] | undefined }) {
  const { backend, user } = useSession();
  const [calls, setCalls] = useState<Call[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [scheduling, setScheduling] = useState(false);
  const load = useCallback(
    () =>
      backend.upcomingCalls({ limit: 20 }).then(
        (page) => setCalls(page.items),
        (e: unknown) => setError(errorMessage(e)),
      ),
    [backend],
  );

  useEffect(() => {
    void load();
    const onChange = (): void => void load();
    for (const event of CHANGES) backend.on(event, onChange);
    // Events from before the socket (re)opened may not have come: the list is read again.
    backend.on('realtimeConnected', onChange);
    return () => {
      for (const event of CHANGES) backend.off(event, onChange);
      backend.off('realtimeConnected', onChange);
    };
  }, [backend, load]);

  const cancel = (call: Call): void => {
    setError(undefined);
    backend.cancelCall(call.id).then(
      () => void load(),
      (e: unknown) => setError(errorMessage(e)),
    );
  };
  const patients = (contacts ?? []).filter((c) => c.role === 'patient');
  const doctor = user.role === 'doctor';

  return html`
    <section class="panel upcoming" aria-labelledby="upcoming-title" data-testid="upcoming">
      <div class="row">
        <h2 id="upcoming-title" class="grow">Upcoming</h2>
        ${
          doctor &&
          !scheduling &&
          html`<button type="button" class="primary" id="schedule-open" disabled=${patients.length === 0}
          onClick=${() => setScheduling(true)}><${Icon} name="calendar" size=${18} /> Schedule a call</button>`
        }
      </div>
      ${
        scheduling &&
        html`<${ScheduleCallForm} patients=${patients} onClose=${() => setScheduling(false)}
        onScheduled=${() => {
          setScheduling(false);
          void load();
        }} />`
      }
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${
        calls === undefined
          ? html`<p class="hint">Loading…</p>`
          : calls.length === 0
            ? html`<p class="hint">No upcoming calls.</p>`
            : html`
        <ul class="list upcoming-calls">
          ${calls.map((call) => html`<${UpcomingRow} key=${call.id} call=${call} selfId=${user.id} onCancel=${() => cancel(call)} />`)}
        </ul>`
      }
    </section>`;
}

function UpcomingRow({ call, selfId, onCancel }: { call: Call; selfId: string; onCancel: () => void }) {
  const others =
    call.participants
      .filter((p) => p.userId !== selfId)
      .map((p) => p.displayName)
      .join(', ') || '—';
  const title = call.title ?? `${call.type === 'video' ? 'Video' : 'Voice'} call`;
  const mine = call.initiatorId === selfId;
  const running = call.status === 'active';
  // The doctor who booked it starts it; once it runs, everyone joins (patients through the lobby).
  const action = mine && !running ? 'Start' : 'Join';
  const mode = action === 'Start' ? 'start' : 'join';
  // Before it opens the server would refuse: say when instead of trying.
  const [notice, setNotice] = useState<string | undefined>();
  const go = (): void => {
    if (!running && call.opensAt && Date.now() < Date.parse(call.opensAt)) {
      setNotice(`Opens at ${formatTime(call.opensAt)}: you can ${action === 'Start' ? 'start it' : 'wait in its waiting room'} from then.`);
    } else navigate(`/call/${encodeURIComponent(call.id)}?mode=${mode}`);
  };
  return html`
    <li class=${`call-row upcoming-row status-${call.status}`} data-upcoming=${call.id} data-status=${call.status}>
      <span class="call-kind"><${Icon} name=${call.type === 'video' ? 'video' : 'phone'} size=${18} /></span>
      <span class="grow"><span class="name">${title}</span>
        <span class="sub">${call.scheduledFor ? formatTime(call.scheduledFor) : ''} · with ${others}${running ? ' · in progress' : ''}</span>
        ${notice && html`<span class="sub notice" role="status" data-testid="opens-at">${notice}</span>`}</span>
      <span class="actions">
        <button type="button" class="primary" data-action=${mode} aria-label=${`${action} ${title} with ${others}`}
          onClick=${go}>${action}</button>
        ${!running && html`<button type="button" class="ghost" data-action="cancel" aria-label=${`Cancel ${title} with ${others}`} onClick=${onCancel}>Cancel</button>`}
      </span>
    </li>`;
}
