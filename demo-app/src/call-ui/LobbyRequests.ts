// A doctor's view of the call's lobby: who waits to be let in, with Admit and Deny.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call, CallParticipant } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage } from '../format.js';
import { chime } from '../sound.js';

const waitingIn = (call: Call): CallParticipant[] => call.participants.filter((p) => p.status === 'waiting');

export function LobbyRequests({ call }: { call: Call }) {
  const { backend } = useSession();
  const [waiting, setWaiting] = useState<CallParticipant[]>(() => waitingIn(call));
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let active = true;
    // Counts the call's events: a read answered after an event may hold the state from before it
    // (a slow answer to the read on joining, then a knock) and must not undo it.
    let eventsSeen = 0;
    const onEvent = (c: Call): void => {
      if (!active || c.id !== call.id) return;
      eventsSeen += 1;
      setWaiting(waitingIn(c));
    };
    // Someone may have knocked before this page joined, or while its events socket was closed.
    const read = (): void => {
      const seenBefore = eventsSeen;
      backend.call(call.id).then(
        (c) => {
          if (active && eventsSeen === seenBefore) setWaiting(waitingIn(c));
        },
        () => undefined,
      );
    };
    read();
    backend.on('callAdmissionRequested', onEvent).on('callAdmissionDenied', onEvent).on('callAccepted', onEvent).on('realtimeConnected', read);
    return () => {
      active = false;
      backend.off('callAdmissionRequested', onEvent).off('callAdmissionDenied', onEvent).off('callAccepted', onEvent).off('realtimeConnected', read);
    };
  }, [backend, call.id]);

  // A chime when someone new starts waiting: the doctor may be looking at the patient, not the screen's top.
  const announced = useRef(new Set<string>());
  useEffect(() => {
    const fresh = waiting.filter((p) => !announced.current.has(p.userId));
    announced.current = new Set(waiting.map((p) => p.userId)); // someone asking again chimes again
    if (fresh.length > 0) chime();
  }, [waiting]);

  if (waiting.length === 0) return null;
  const decide = (p: CallParticipant, admit: boolean): void => {
    setBusy(p.userId);
    setError(undefined);
    (admit ? backend.admit(call.id, p.userId) : backend.deny(call.id, p.userId))
      .then(
        () => setWaiting((list) => list.filter((w) => w.userId !== p.userId)),
        (e: unknown) => setError(errorMessage(e)),
      )
      .finally(() => setBusy(undefined));
  };
  return html`
    <section class="lobby" aria-label="Waiting room" data-testid="lobby-requests" aria-live="polite">
      <ul>
        ${waiting.map(
          (p) => html`
          <li key=${p.userId} data-waiting=${p.userId}>
            <span class="grow"><strong>${p.displayName}</strong> is waiting to join</span>
            <button type="button" class="success small" disabled=${busy === p.userId} aria-label=${`Admit ${p.displayName}`} onClick=${() => decide(p, true)}>Admit</button>
            <button type="button" class="ghost small" disabled=${busy === p.userId} aria-label=${`Deny ${p.displayName}`} onClick=${() => decide(p, false)}>Deny</button>
          </li>`,
        )}
      </ul>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </section>`;
}
