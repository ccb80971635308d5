// Call recording in the call: the doctor's Record / Stop button, the consent dialog for whoever the
// recording waits for, and the indicator everyone sees while it records (or is paused).
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call, Recording } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage } from '../format.js';

const OPEN = new Set(['awaiting_consent', 'recording', 'paused']);

export function RecordingControls({ call }: { call: Call }) {
  const { backend, user } = useSession();
  const [enabled, setEnabled] = useState(false);
  const [recording, setRecording] = useState<Recording | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  // Events seen so far. A response to a request sent before the latest event may be older than that
  // event (the patient's page once showed "Recording" after the event that paused it, so she was
  // never asked to consent); whatever the response saw that is newer comes as an event too.
  const events = useRef(0);

  useEffect(() => {
    let active = true;
    const onEvent = (r: Recording): void => {
      if (!active || r.callId !== call.id) return;
      events.current++;
      // A late event about an earlier recording (its processing → ready) does not hide the open one.
      setRecording((shown) => (shown && shown.id !== r.id && OPEN.has(shown.state) && !OPEN.has(r.state) ? shown : r));
    };
    let on = false;
    const read = (): void => {
      const seen = events.current;
      backend
        .recording(call.id)
        .then((current) => {
          if (active && current && events.current === seen) setRecording(current);
        })
        .catch(() => undefined);
    };
    // Events sent while the realtime socket was down are lost: read the state again when it is back.
    const onRealtime = (): void => {
      if (on) read();
    };
    backend.on('recordingUpdated', onEvent).on('realtimeConnected', onRealtime);
    backend
      .recordingEnabled()
      .then((enabledHere) => {
        if (!active || !enabledHere) return;
        on = true;
        setEnabled(true);
        read();
      })
      .catch(() => undefined);
    return () => {
      active = false;
      backend.off('recordingUpdated', onEvent).off('realtimeConnected', onRealtime);
    };
  }, [backend, call.id]);

  if (!enabled) return null;
  const open = recording !== undefined && OPEN.has(recording.state);
  const act = (action: () => Promise<Recording>): void => {
    setBusy(true);
    setError(undefined);
    const seen = events.current;
    action()
      .then(
        (r) => events.current === seen && setRecording(r),
        (e: unknown) => setError(errorMessage(e)),
      )
      .finally(() => setBusy(false));
  };
  const asked = open && recording.waitingFor.includes(user.id);
  const waitingNames = open ? recording.waitingFor.map((id) => call.participants.find((p) => p.userId === id)?.displayName ?? 'someone') : [];
  return html`
    <div class="recording" data-testid="recording" data-state=${recording?.state ?? 'none'}>
      ${recording?.state === 'recording' && html`<div class="banner recording-on" role="status" data-testid="recording-indicator"><span class="rec-dot" aria-hidden="true"></span> Recording</div>`}
      ${recording?.state === 'paused' && html`<div class="banner warning" role="status" data-testid="recording-paused">Recording paused until ${waitingNames.join(', ') || 'everyone present'} consent${waitingNames.length === 1 ? 's' : ''}</div>`}
      ${recording?.state === 'awaiting_consent' && html`<div class="banner" role="status" data-testid="recording-waiting">Recording asked for: waiting for ${waitingNames.join(', ') || 'everyone'} to consent</div>`}
      ${recording?.state === 'refused' && html`<div class="banner" role="status" data-testid="recording-refused">Recording refused: nothing is recorded</div>`}
      ${
        user.role === 'doctor' &&
        html`
        <button type="button" id="toggle-recording" class=${open ? 'danger small' : 'small'} disabled=${busy}
          onClick=${() => act(() => (open ? backend.stopRecording(call.id) : backend.requestRecording(call.id)))}>${open ? 'Stop recording' : 'Record'}</button>`
      }
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${
        asked &&
        html`
        <div class="modal-backdrop">
          <div class="modal" role="dialog" aria-modal="true" aria-labelledby="recording-consent-title" aria-describedby="recording-consent-desc" data-testid="recording-consent">
            <h2 id="recording-consent-title">Record this call?</h2>
            <p id="recording-consent-desc">The doctor asks to record this consultation for your health record. It records only while everyone in the call agrees; you can say no.</p>
            <div class="row">
              <button type="button" id="recording-refuse" class="danger" disabled=${busy} onClick=${() => act(() => backend.answerRecording(call.id, false))}>Don't record</button>
              <button type="button" id="recording-consent" class="success" disabled=${busy} onClick=${() => act(() => backend.answerRecording(call.id, true))}>I agree</button>
            </div>
          </div>
        </div>`
      }
    </div>`;
}
