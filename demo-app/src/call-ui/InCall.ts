// The call itself: video grid (screen share large, active speaker highlighted), toolbar, timer,
// reconnecting and call-ending banners, in-call chat, device settings, and a doctor's mute/remove controls.
import { QualityReporter, Track, type RemoteParticipant } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Call, RoomAccess } from '../backend/types.js';
import { useSession } from '../context.js';
import { errorMessage, formatDuration } from '../format.js';
import { ChatPanel } from './ChatPanel.js';
import { DevicePickers } from './DevicePickers.js';
import { LobbyRequests } from './LobbyRequests.js';
import { RecordingControls } from './RecordingControls.js';
import { audioConstraints, videoConstraints, type DeviceChoice } from './devices.js';
import { Tile } from './Tile.js';
import { useCallChat } from './useCallChat.js';
import { localTrack, useCallRoom } from './useCallRoom.js';
import { Icon, type IconName } from '../icons.js';

export interface InCallProps {
  call: Call;
  access: RoomAccess;
  devices: DeviceChoice;
  onLeave: () => void;
  /** The server closed this participant's connection: removed by the doctor (`REMOVED`) or the call's maximum length (`MAX_DURATION`). */
  onClosed: (code: string) => void;
}

type Panel = 'none' | 'chat' | 'devices';

export function InCall({ call, access, devices: initialDevices, onLeave, onClosed }: InCallProps) {
  const { user, backend } = useSession();
  // The SDK asks for a fresh access by itself when the media node is lost, and moves the call there.
  const callRoom = useCallRoom(access, call.type, initialDevices, () => backend.callAccess(call.id));
  const { room, state, connectedAt, error, closedCode, refresh } = callRoom;
  const [panel, setPanel] = useState<Panel>('none');
  const chat = useCallChat(room, call, backend, user.id, panel === 'chat');
  const [devices, setDevices] = useState(initialDevices);
  const [seenChat, setSeenChat] = useState(0);
  const [controlError, setControlError] = useState<string | undefined>();
  const [now, setNow] = useState(Date.now());
  // Set once the media server announces the end of the call (the installation's maximum length).
  const [endsAt, setEndsAt] = useState<Date | undefined>();
  // Leave the media room first, then end or leave the call: ended first, the server closes our
  // socket and the SDK would take it for a lost connection.
  const leaveRoom = (): void => void room.disconnect().finally(onLeave);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    const reporter = new QualityReporter(room, { send: (samples) => backend.reportQuality(call.id, samples) });
    return () => reporter.close();
  }, [room, call.id]);
  useEffect(() => {
    const onEnding = ({ endsAt: at }: { endsAt: Date }): void => setEndsAt(at);
    room.on('callEndingSoon', onEnding);
    return () => void room.off('callEndingSoon', onEnding);
  }, [room]);
  useEffect(() => {
    if (closedCode === 'REMOVED' || closedCode === 'MAX_DURATION') onClosed(closedCode);
  }, [closedCode]);
  useEffect(() => {
    if (panel === 'chat') setSeenChat(chat.lines.length);
  }, [panel, chat.lines.length]);

  const connected = state === 'connected' || state === 'reconnecting';
  const remotes = [...room.remoteParticipants.values()];
  const mic = localTrack(room, Track.Source.Microphone);
  const camera = localTrack(room, Track.Source.Camera);
  const screen = localTrack(room, Track.Source.ScreenShare);
  const isAdmin = connected && room.grants?.roomAdmin === true;
  const speaker = connected ? room.activeSpeaker : undefined;

  const run = (action: () => Promise<unknown>): void => {
    setControlError(undefined);
    action().then(refresh, (e: unknown) => setControlError(errorMessage(e)));
  };
  const local = () => room.localParticipant;
  const toggleMic = (): void =>
    run(async () => (mic ? (mic.isMuted ? mic.unmute() : mic.mute()) : local().setMicrophoneEnabled(true, audioConstraints(devices.microphoneId))));
  const toggleCamera = (): void => run(() => local().setCameraEnabled(!camera, videoConstraints(devices.cameraId)));
  const toggleScreen = (): void => run(() => local().setScreenShareEnabled(!screen));
  const changeDevices = (next: DeviceChoice): void => {
    const previous = devices;
    setDevices(next);
    run(async () => {
      if (next.cameraId && next.cameraId !== previous.cameraId && camera) await local().switchActiveDevice('videoinput', next.cameraId);
      if (next.microphoneId && next.microphoneId !== previous.microphoneId && mic) await local().switchActiveDevice('audioinput', next.microphoneId);
      if (next.speakerId !== previous.speakerId) {
        for (const element of document.querySelectorAll<HTMLAudioElement>('.in-call audio')) {
          const withSink = element as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
          await withSink.setSinkId?.(next.speakerId ?? '');
        }
      }
    });
  };

  const screens: { id: string; name: string; track: Track; local: boolean }[] = [];
  if (screen) screens.push({ id: 'local-screen', name: user.displayName, track: screen, local: true });
  for (const p of remotes) {
    const t = p.getTrack(Track.Source.ScreenShare);
    if (t) screens.push({ id: `${p.sid}-screen`, name: p.name, track: t, local: false });
  }
  const elapsed = connectedAt ? formatDuration((now - connectedAt) / 1000) : '0:00';
  const unread = chat.lines.length - seenChat;

  const adminActions = (p: RemoteParticipant) => {
    if (!isAdmin) return undefined;
    const pMic = p.getTrack(Track.Source.Microphone);
    return html`
      <span class="admin-actions">
        <button type="button" class="icon small" aria-label=${`Mute ${p.name}`} title=${`Mute ${p.name}`} disabled=${!pMic || pMic.isMuted}
          onClick=${() => run(() => room.muteParticipantTrack(p, Track.Source.Microphone))}><${Icon} name="micOff" size=${16} /></button>
        <button type="button" class="icon small" aria-label=${`Remove ${p.name} from the call`} title=${`Remove ${p.name}`}
          onClick=${() => run(() => room.removeParticipant(p))}><${Icon} name="remove" size=${16} /></button>
      </span>`;
  };

  return html`
    <section class=${`in-call ${panel !== 'none' ? 'with-panel' : ''}`} aria-label="Call" data-testid="in-call" data-state=${state}>
      <header class="call-bar">
        <span class="call-title">${
          remotes.length > 0
            ? remotes.map((p) => p.name).join(', ')
            : call.participants
                .filter((p) => p.userId !== user.id && p.status === 'accepted')
                .map((p) => p.displayName)
                .join(', ')
        }</span>
        <span class="timer" role="timer" aria-label="Call duration" data-testid="call-timer">${elapsed}</span>
      </header>
      ${state === 'reconnecting' && html`<div class="banner warning" role="status" data-testid="reconnecting">Reconnecting…</div>`}
      ${state === 'connecting' && html`<div class="banner" role="status">Connecting…</div>`}
      ${
        endsAt &&
        html`<div class="banner warning" role="status" data-testid="call-ending">
          This call ends in ${formatDuration(Math.max(0, (endsAt.getTime() - now) / 1000))}: the clinic limits the length of calls.
        </div>`
      }
      ${(error || controlError) && html`<div class="banner error" role="alert">${error ?? controlError}</div>`}
      ${mic?.isMuted && html`<div class="banner" role="status" data-testid="muted-banner">Your microphone is muted.</div>`}
      ${user.role === 'doctor' && html`<${LobbyRequests} call=${call} />`}
      <${RecordingControls} call=${call} />
      <div class=${`stage ${screens.length ? 'has-screen' : ''}`}>
        ${screens.map((s) => html`<${Tile} key=${s.id} id=${s.id} name=${s.name} video=${s.track} audio=${undefined} local=${s.local} micMuted=${false} speaking=${false} screen=${true} />`)}
        <div class=${`grid count-${Math.min(remotes.length + 1, 9)}`} data-testid="grid">
          ${
            connected &&
            html`<${Tile} key="local" id="local" name=${user.displayName} video=${camera} audio=${undefined} local=${true}
              micMuted=${!mic || mic.isMuted} speaking=${speaker === room.localParticipant && remotes.length > 1} quality=${room.localParticipant.connectionQuality} />`
          }
          ${remotes.map((p) => {
            const pMic = p.getTrack(Track.Source.Microphone);
            return html`<${Tile} key=${p.sid} id=${p.sid} name=${p.name} video=${p.getTrack(Track.Source.Camera)} audio=${pMic}
              local=${false} micMuted=${!pMic || pMic.isMuted} speaking=${speaker === p && remotes.length > 1}
              quality=${p.connectionQuality} actions=${adminActions(p)} />`;
          })}
          ${connected && remotes.length === 0 && html`<p class="hint waiting-for" role="status">Waiting for others to join…</p>`}
        </div>
      </div>
      ${panel === 'chat' && html`<${ChatPanel} lines=${chat.lines} onSend=${chat.send} onClose=${() => setPanel('none')} />`}
      ${
        panel === 'devices' &&
        html`
        <aside class="side-panel" aria-label="Device settings">
          <header><h2>Devices</h2><button type="button" class="icon" aria-label="Close device settings" onClick=${() => setPanel('none')}><${Icon} name="close" /></button></header>
          <${DevicePickers} choice=${devices} onChange=${changeDevices} video=${call.type === 'video'} />
        </aside>`
      }
      <nav class="toolbar" aria-label="Call controls">
        <${ToolButton} id="toggle-mic" label=${mic && !mic.isMuted ? 'Mute microphone' : 'Unmute microphone'} pressed=${!mic || mic.isMuted} icon=${mic && !mic.isMuted ? 'mic' : 'micOff'} onClick=${toggleMic} disabled=${!connected} />
        ${call.type === 'video' && html`<${ToolButton} id="toggle-camera" label=${camera ? 'Turn camera off' : 'Turn camera on'} pressed=${!camera} icon=${camera ? 'video' : 'videoOff'} onClick=${toggleCamera} disabled=${!connected} />`}
        <${ToolButton} id="toggle-screen" label=${screen ? 'Stop sharing screen' : 'Share screen'} pressed=${!!screen} icon="screen" onClick=${toggleScreen} disabled=${!connected} />
        <${ToolButton} id="toggle-chat" label=${unread > 0 ? `Chat, ${unread} new` : 'Chat'} pressed=${panel === 'chat'} icon="chat" badge=${unread} onClick=${() => setPanel(panel === 'chat' ? 'none' : 'chat')} />
        <${ToolButton} id="toggle-devices" label="Device settings" pressed=${panel === 'devices'} icon="settings" onClick=${() => setPanel(panel === 'devices' ? 'none' : 'devices')} />
        <button type="button" id="leave-call" class="danger leave" onClick=${leaveRoom}><${Icon} name="leave" /><span class="label">Leave</span></button>
      </nav>
    </section>`;
}

function ToolButton({
  id,
  label,
  icon,
  pressed,
  onClick,
  disabled = false,
  badge = 0,
}: {
  id: string;
  label: string;
  icon: IconName;
  pressed: boolean;
  onClick: () => void;
  disabled?: boolean;
  badge?: number;
}) {
  return html`<button type="button" id=${id} class=${`tool ${pressed ? 'pressed' : ''}`} aria-label=${label} aria-pressed=${pressed ? 'true' : 'false'} title=${label} disabled=${disabled} onClick=${onClick}>
    <${Icon} name=${icon} />${badge > 0 && html`<span class="tool-badge" aria-hidden="true">${badge}</span>`}</button>`;
}
