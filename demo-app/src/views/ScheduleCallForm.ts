// A doctor books a call with a patient for later: patient, date and time, video or voice, title.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CallType, Contact } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage } from '../format.js';

/** How far ahead the API takes a booking. */
const MAX_AHEAD_DAYS = 90;

/** `<input type=datetime-local>` wants local time without a zone: "2026-11-24T15:30". */
function localInputValue(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The next quarter hour at least 15 minutes from now. */
function defaultTime(): Date {
  const date = new Date(Date.now() + 15 * 60_000);
  date.setMinutes(Math.ceil(date.getMinutes() / 15) * 15, 0, 0);
  return date;
}

export function ScheduleCallForm({ patients, onScheduled, onClose }: { patients: Contact[]; onScheduled: () => void; onClose: () => void }) {
  const { backend } = useSession();
  const [patientId, setPatientId] = useState(patients[0]?.id ?? '');
  const [when, setWhen] = useState(() => localInputValue(defaultTime()));
  const [type, setType] = useState<CallType>('video');
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  // The button that opened the form is gone: the focus moves to its first field.
  const first = useRef<HTMLSelectElement>(null);
  useEffect(() => first.current?.focus(), []);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const at = new Date(when);
    if (Number.isNaN(at.getTime())) return setError('Choose a date and time.');
    if (at.getTime() <= Date.now()) return setError('Choose a time in the future.');
    setBusy(true);
    setError(undefined);
    try {
      await backend.scheduleCall({ inviteeIds: [patientId], type, scheduledFor: at.toISOString(), ...(title.trim() ? { title: title.trim() } : {}) });
      onScheduled();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="schedule-form" aria-labelledby="schedule-title" data-testid="schedule-form" onSubmit=${(e: Event) => void submit(e)}>
      <h3 id="schedule-title">Schedule a call</h3>
      <div class="fields">
        <div class="field">
          <label for="schedule-patient">Patient</label>
          <select id="schedule-patient" ref=${first} required value=${patientId} onChange=${(e: Event) => setPatientId((e.target as HTMLSelectElement).value)}>
            ${patients.map((p) => html`<option key=${p.id} value=${p.id}>${p.displayName}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="schedule-when">Date and time</label>
          <input id="schedule-when" type="datetime-local" required value=${when} min=${localInputValue(new Date())} max=${localInputValue(new Date(Date.now() + MAX_AHEAD_DAYS * 86_400_000))} onInput=${(e: Event) => setWhen((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="schedule-type">Kind</label>
          <select id="schedule-type" value=${type} onChange=${(e: Event) => setType((e.target as HTMLSelectElement).value === 'voice' ? 'voice' : 'video')}>
            <option value="video">Video</option>
            <option value="voice">Voice</option>
          </select>
        </div>
        <div class="field wide">
          <label for="schedule-title-input">Title <span class="hint">(optional)</span></label>
          <input id="schedule-title-input" type="text" maxlength="120" placeholder="e.g. Follow-up" value=${title} onInput=${(e: Event) => setTitle((e.target as HTMLInputElement).value)} />
        </div>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="row">
        <button type="submit" class="primary" id="schedule-submit" disabled=${busy || !patientId}>${busy ? 'Scheduling…' : 'Schedule'}</button>
        <button type="button" class="ghost" onClick=${onClose}>Close</button>
      </div>
    </form>`;
}
