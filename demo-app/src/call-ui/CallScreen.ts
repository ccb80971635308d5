// One call from the user's side: ringing (caller), waiting room (callee), or the lobby (a patient
// asking to join a running call, until a doctor admits them) → in call → ended.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call, CallType, RoomAccess } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage, formatDuration } from '../format.js';
import { navigate } from '../router.js';
import { DEFAULT_DEVICES, type DeviceChoice } from './devices.js';
import { InCall } from './InCall.js';
import { prepareRoom, releasePreparedRoom } from './prepared-room.js';
import { WaitingRoom } from './WaitingRoom.js';

type Phase =
  | { kind: 'starting' }
  | { kind: 'ringing'; call: Call; access: RoomAccess | undefined }
  | { kind: 'waiting'; call: Call; access: RoomAccess }
  | { kind: 'lobby'; call: Call }
  | { kind: 'in-call'; call: Call; access: RoomAccess; devices: DeviceChoice }
  | { kind: 'ended'; call: Call | undefined; reason: string };

export function CallScreen({ callId, params }: { callId: string; params: URLSearchParams }) {
  const { backend, user } = useSession();
  const [phase, setPhase] = useState<Phase>({ kind: 'starting' });
  const choice = useRef<DeviceChoice>(DEFAULT_DEVICES);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;
  const mode = params.get('mode') ?? 'join';
  const waitingAccess = phase.kind === 'waiting' || phase.kind === 'ringing' ? phase.access : undefined;
  // The in-call Room is taken during render, before this runs: releasing otherwise closes only a
  // prepared socket nobody will use (the call ended or was declined while ringing).
  useEffect(() => {
    if (waitingAccess) prepareRoom(waitingAccess);
    else if (phase.kind !== 'in-call') releasePreparedRoom();
  }, [waitingAccess, phase.kind]);
  useEffect(() => releasePreparedRoom, []);

  useEffect(() => {
    let cancelled = false;
    const fail = (e: unknown): void => {
      if (!cancelled) setPhase({ kind: 'ended', call: undefined, reason: errorMessage(e) });
    };
    if (callId === 'new') {
      const to = (params.get('to') ?? '').split(',').filter(Boolean);
      const type: CallType = params.get('type') === 'voice' ? 'voice' : 'video';
      backend.startCall(to, type).then(({ call, access }) => {
        if (!cancelled) setPhase({ kind: 'ringing', call, access });
      }, fail);
    } else if (mode === 'start') {
      // The doctor who booked a scheduled call starts it; patients already waiting show in the call.
      backend
        .startScheduledCall(callId)
        .then((access) => backend.call(callId).then((call) => ({ access, call })))
        .then(({ access, call }) => {
          if (!cancelled) setPhase({ kind: 'waiting', call, access });
        }, fail);
    } else if (mode === 'accept') {
      Promise.all([backend.acceptCall(callId), backend.call(callId)]).then(([access, call]) => {
        if (!cancelled) setPhase({ kind: 'waiting', call, access });
      }, fail);
    } else {
      Promise.all([backend.joinCall(callId), backend.call(callId)]).then(([access, call]) => {
        if (!cancelled) setPhase(access ? { kind: 'waiting', call, access } : { kind: 'lobby', call });
      }, fail);
    }
    return () => {
      cancelled = true;
    };
  }, [backend, callId, mode]);

  useEffect(() => {
    const mine = (c: Call): boolean => {
      const p = phaseRef.current;
      return 'call' in p && p.call?.id === c.id;
    };
    const onAccepted = (c: Call, userId: string): void => {
      const p = phaseRef.current;
      // The caller goes in when someone answers; a patient in the lobby when a doctor admits them.
      const admitted = p.kind === 'lobby' && userId === user.id;
      if (!mine(c) || (p.kind !== 'ringing' && !admitted)) return;
      (p.kind === 'ringing' && p.access ? Promise.resolve(p.access) : backend.joinCall(c.id)).then(
        (access) =>
          setPhase(access ? { kind: 'in-call', call: c, access, devices: choice.current } : { kind: 'ended', call: c, reason: 'Could not join the call.' }),
        (e: unknown) => setPhase({ kind: 'ended', call: c, reason: errorMessage(e) }),
      );
    };
    const onDenied = (c: Call, userId: string): void => {
      if (mine(c) && userId === user.id && phaseRef.current.kind === 'lobby')
        setPhase({ kind: 'ended', call: undefined, reason: 'The doctor could not let you in this time.' });
    };
    // In a running group call one invitee declining (or missing) it ends nothing: only the call's
    // own status says it is over.
    const ended =
      (reason: (c: Call) => string) =>
      (c: Call): void => {
        if (mine(c) && c.status !== 'active' && c.status !== 'ringing' && c.status !== 'scheduled') setPhase({ kind: 'ended', call: c, reason: reason(c) });
      };
    const onDeclined = ended((c) => `${others(c, user.id)} declined the call.`);
    const onMissed = ended((c) =>
      c.endReason === 'not_started' ? 'The doctor did not start this appointment. You can message them or book again.' : 'No answer.',
    );
    const onCancelled = ended(() => 'The call was cancelled.');
    const onEnded = ended(() => 'Call ended.');
    backend
      .on('callAccepted', onAccepted)
      .on('callAdmissionDenied', onDenied)
      .on('callDeclined', onDeclined)
      .on('callMissed', onMissed)
      .on('callCancelled', onCancelled)
      .on('callEnded', onEnded);
    return () => {
      backend
        .off('callAccepted', onAccepted)
        .off('callAdmissionDenied', onDenied)
        .off('callDeclined', onDeclined)
        .off('callMissed', onMissed)
        .off('callCancelled', onCancelled)
        .off('callEnded', onEnded);
    };
  }, [backend, user.id]);

  const home = (): void => navigate('/');
  const leave = async (call: Call): Promise<void> => {
    try {
      // Hanging up a 1:1 call ends it for both; leaving a group call lets the others go on.
      const group = call.participants.length > 2;
      await (group ? backend.leaveCall(call.id) : backend.endCall(call.id));
      setPhase({ kind: 'ended', call: await backend.call(call.id), reason: group ? 'You left the call.' : 'Call ended.' });
    } catch (e) {
      setPhase({ kind: 'ended', call, reason: errorMessage(e) });
    }
  };

  switch (phase.kind) {
    case 'starting':
      return html`<main class="call-screen center" aria-busy="true"><p role="status">Starting…</p></main>`;
    case 'ringing':
      return html`<main class="call-screen"><${WaitingRoom} type=${phase.call.type} title=${`Calling ${others(phase.call, user.id)}`}
        status="Ringing…" onChoice=${(c: DeviceChoice) => (choice.current = c)} cancelLabel="Cancel call"
        onCancel=${() => void backend.cancelCall(phase.call.id).then(home, home)} /></main>`;
    case 'lobby':
      return html`<main class="call-screen"><${WaitingRoom} type=${phase.call.type} title=${`Waiting room · ${others(phase.call, user.id, 'accepted')}`}
        status="The doctor has been told you are here. Please wait, they will let you in shortly." statusId="lobby"
        onChoice=${(c: DeviceChoice) => (choice.current = c)} cancelLabel="Leave waiting room"
        onCancel=${() => void backend.leaveCall(phase.call.id).then(home, home)} /></main>`;
    case 'waiting':
      return html`<main class="call-screen"><${WaitingRoom} type=${phase.call.type} title=${`Call with ${others(phase.call, user.id)}`}
        cancelLabel="Leave" onCancel=${() => void leave(phase.call)}
        onJoin=${(devices: DeviceChoice) => setPhase({ kind: 'in-call', call: phase.call, access: phase.access, devices })} /></main>`;
    case 'in-call':
      return html`<main class="call-screen full"><${InCall} call=${phase.call} access=${phase.access} devices=${phase.devices} onLeave=${() => void leave(phase.call)}
        onClosed=${(code: string) =>
          setPhase({
            kind: 'ended',
            call: phase.call,
            reason: code === 'MAX_DURATION' ? 'The call reached the maximum length the clinic allows.' : 'You were removed from the call.',
          })} /></main>`;
    case 'ended':
      return html`
        <main class="call-screen center">
          <section class="card ended" data-testid="call-ended" aria-labelledby="ended-title">
            <h2 id="ended-title">${phase.reason}</h2>
            ${phase.call && phase.call.durationSeconds !== null && html`<p>Duration <span data-testid="ended-duration">${formatDuration(phase.call.durationSeconds)}</span></p>`}
            <button type="button" class="primary" onClick=${home}>Back to home</button>
          </section>
        </main>`;
  }
}

function others(call: Call, selfId: string, status?: string): string {
  return (
    call.participants
      .filter((p) => p.userId !== selfId && (!status || p.status === status))
      .map((p) => p.displayName)
      .join(', ') || 'the other side'
  );
}
