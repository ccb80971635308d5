// The callee's incoming-call dialog with a ringtone-like cue; it closes when the caller cancels
// or the call times out.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage } from '../format.js';
import { navigate } from '../router.js';
import { Icon } from '../icons.js';
import { ringtone } from '../sound.js';

export function IncomingCallModal() {
  const { backend, user } = useSession();
  const [call, setCall] = useState<Call | undefined>();
  const [error, setError] = useState<string | undefined>();
  const acceptRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    // Calls that stopped ringing this user while the list below was being read.
    const settled = new Set<string>();
    const onRinging = (c: Call): void => {
      if (c.initiatorId !== user.id) setCall(c);
    };
    // In a group call others answering does not stop this ringing; only this user's own answer
    // (on any of their devices) or the call ending does.
    const onGone = (...[c]: [Call] | [Call, string]): void => {
      const mine = c.participants.find((p) => p.userId === user.id);
      const stillRinging = (c.status === 'ringing' || c.status === 'active') && mine?.status === 'invited';
      if (!stillRinging) settled.add(c.id);
      setCall((current) => (current?.id !== c.id || stillRinging ? current : undefined));
    };
    // The ring may have gone out before this dialog listened, or before the events socket was
    // registered (a first socket replays nothing): a user who signs in or reloads while being
    // called is asked all the same. Read on mount and on every (re)connect of the socket.
    let unmounted = false;
    const readRinging = (): void => {
      backend.ringingCalls().then(
        (calls) => {
          const ringing = calls.find((c) => !settled.has(c.id));
          if (!unmounted && ringing) setCall((current) => current ?? ringing);
        },
        () => undefined,
      );
    };
    backend.on('callRinging', onRinging);
    for (const event of ['callCancelled', 'callMissed', 'callEnded', 'callAccepted', 'callDeclined'] as const) backend.on(event, onGone);
    backend.on('realtimeConnected', readRinging);
    readRinging();
    return () => {
      unmounted = true;
      backend.off('realtimeConnected', readRinging);
      backend.off('callRinging', onRinging);
      for (const event of ['callCancelled', 'callMissed', 'callEnded', 'callAccepted', 'callDeclined'] as const) backend.off(event, onGone);
    };
  }, [backend, user.id]);

  useEffect(() => {
    if (!call) return;
    acceptRef.current?.focus();
    return ringtone();
  }, [call?.id]);

  if (!call) return null;
  const caller = call.participants.find((p) => p.userId === call.initiatorId);
  const decline = async (): Promise<void> => {
    setCall(undefined);
    try {
      await backend.declineCall(call.id);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return html`
    <div class="modal-backdrop">
      <div class="modal" role="dialog" aria-modal="true" aria-labelledby="incoming-title" aria-describedby="incoming-desc" data-testid="incoming-call"
        onKeyDown=${(e: KeyboardEvent) => {
          if (e.key === 'Escape') void decline();
        }}>
        <div class="pulse" aria-hidden="true"><${Icon} name=${call.type === 'video' ? 'video' : 'phone'} size=${40} /></div>
        <h2 id="incoming-title">Incoming ${call.type} call</h2>
        <p id="incoming-desc">${caller?.displayName ?? 'Someone'} is calling you.</p>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <div class="row">
          <button type="button" class="danger" onClick=${() => void decline()}>Decline</button>
          <button type="button" class="success" ref=${acceptRef}
            onClick=${() => {
              setCall(undefined);
              navigate(`/call/${encodeURIComponent(call.id)}?mode=accept`);
            }}>Accept</button>
        </div>
      </div>
    </div>`;
}
