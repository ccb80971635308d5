// The development call page: fetch a room token from the API's dev endpoint, join, publish camera
// and microphone, and show every participant's tracks. Uses only the SDK's public entry.
import { listDevices, Room, TelemedError, type RemoteParticipant, type RemoteTrack } from '@telemed/sdk';
import { checkBrowserSupport, UnsupportedBrowserError, type BrowserSupport } from '@telemed/sdk';
import { showUnsupportedBrowser } from '../unsupported.js';
import type { DevCallPageHandle } from './page-handle.js';

interface DevTokenResponse {
  token: string;
  url: string;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} missing`);
  return element as T;
};

const form = $<HTMLFormElement>('join-form');
const roomInput = $<HTMLInputElement>('room');
const nameInput = $<HTMLInputElement>('name');
const joinButton = $<HTMLButtonElement>('join');
const leaveButton = $<HTMLButtonElement>('leave');
const status = $<HTMLParagraphElement>('status');
const grid = $<HTMLElement>('grid');
const micButton = $<HTMLButtonElement>('mic');
const cameraButton = $<HTMLButtonElement>('camera');
const screenButton = $<HTMLButtonElement>('screen');
const switchCameraButton = $<HTMLButtonElement>('switch-camera');
const chatForm = $<HTMLFormElement>('chat-form');
const chatInput = $<HTMLInputElement>('chat-input');
const chatLog = $<HTMLOListElement>('chat-log');

const params = new URLSearchParams(location.search);
roomInput.value = params.get('room') ?? roomInput.value;
nameInput.value = params.get('name') ?? `guest-${Math.random().toString(36).slice(2, 6)}`;

let room: Room | undefined;

const handle: DevCallPageHandle = {
  room: undefined,
  error: undefined,
  controlError: undefined,
  chat: [],
  states: [],
  timing: {},
  activeSpeaker: undefined,
  audioLevelUpdates: 0,
};
(window as typeof window & { telemed: DevCallPageHandle }).telemed = handle;

function tile(id: string, label: string, local = false): HTMLElement {
  let element = document.getElementById(`tile-${id}`);
  if (!element) {
    element = document.createElement('div');
    element.id = `tile-${id}`;
    element.className = local ? 'tile local' : 'tile';
    element.dataset.participant = label;
    const caption = document.createElement('span');
    caption.className = 'label';
    caption.textContent = local ? `${label} (you)` : label;
    element.append(caption);
    grid.append(element);
  }
  return element;
}

function showRemoteTrack(track: RemoteTrack, participant: RemoteParticipant): void {
  const element = track.attach();
  element.dataset.source = track.source;
  if (track.kind === 'audio') element.hidden = true;
  if (element instanceof HTMLVideoElement && handle.timing.firstFrameAt === undefined) {
    const shown = (): void => void (handle.timing.firstFrameAt ??= performance.now());
    if ('requestVideoFrameCallback' in element) element.requestVideoFrameCallback(shown);
    else (element as HTMLVideoElement).addEventListener('loadeddata', shown, { once: true });
  }
  tile(participant.sid, participant.name).prepend(element);
}

async function requestToken(roomName: string, identity: string): Promise<DevTokenResponse> {
  const res = await fetch('/api/dev/room-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room: roomName, identity, name: identity }),
  });
  const body = (await res.json()) as DevTokenResponse | { error: { message: string } };
  if (!res.ok || 'error' in body) throw new Error('error' in body ? body.error.message : `HTTP ${res.status}`);
  return body;
}

async function join(): Promise<void> {
  joinButton.disabled = true;
  status.textContent = 'Connecting…';
  handle.timing = { joinStartedAt: performance.now() };
  // ?autoSubscribe=0 receives only the publications the page subscribes to (tests drive it).
  const current = new Room(params.get('autoSubscribe') === '0' ? { autoSubscribe: false } : {});
  room = current;
  handle.room = current;
  handle.error = undefined;
  current.on('connectionStateChanged', (state) => {
    handle.states.push(state);
    status.textContent = state === 'connected' ? `Connected to ${current.name ?? ''}` : state;
  });
  current.on('chatMessage', (message, from) => {
    handle.chat.push(message);
    appendChat(from.name, message.text);
  });
  current.on('trackSubscribed', showRemoteTrack);
  current.on('trackUnsubscribed', (track) => track.detach().forEach((element) => element.remove()));
  current.on('participantLeft', (participant) => document.getElementById(`tile-${participant.sid}`)?.remove());
  current.on('reconnected', () => refreshLocalTiles(current));
  current.on('activeSpeakerChanged', (speaker) => {
    handle.activeSpeaker = speaker?.identity;
    for (const element of document.querySelectorAll('.tile'))
      element.classList.toggle('speaking', (element as HTMLElement).dataset.participant === speaker?.name);
  });
  current.on('audioLevelsChanged', (levels) => void (levels.length > 0 && handle.audioLevelUpdates++));
  current.on('connectionQualityChanged', (quality, participant) => {
    const element = document.getElementById(`tile-${participant.sid}`);
    if (element) element.dataset.quality = quality;
  });
  current.on('disconnected', (error) => {
    status.textContent = error ? `Disconnected: ${error.message}` : 'Disconnected';
    grid.replaceChildren();
    setControlsEnabled(false);
    joinButton.disabled = false;
    leaveButton.disabled = true;
  });
  try {
    // A token given in the URL (e.g. issued by another system) is used as is.
    const given = params.get('token');
    const { token, url } = given ? { token: given, url: params.get('url') ?? '' } : await requestToken(roomInput.value, nameInput.value);
    await current.connect(url, token);
    handle.timing.connectedAt = performance.now();
    leaveButton.disabled = false;
    setControlsEnabled(true);
    // ?publish=0 joins as a viewer (e.g. a token without canPublish).
    if (params.get('publish') !== '0') {
      await control(async () => {
        // ?res=640x360 asks the camera for a smaller capture (many pages on one machine).
        const [width, height] = (params.get('res') ?? '1280x720').split('x').map(Number);
        await current.localParticipant.setCameraEnabled(true, { width: width ?? 1280, height: height ?? 720 });
        await current.localParticipant.setMicrophoneEnabled(true);
      });
      refreshLocalTiles(current);
    }
  } catch (error) {
    handle.error = error instanceof TelemedError ? { code: error.code, message: error.message } : { code: 'UNKNOWN', message: String(error) };
    status.textContent = `Could not join: ${error instanceof TelemedError ? `${error.code}: ${error.message}` : String(error)}`;
    if (error instanceof UnsupportedBrowserError) cannotCall(checkBrowserSupport());
    joinButton.disabled = false;
    await current.disconnect();
  }
}

/** Instead of a blank call screen: why this browser cannot call, what to use, and a device check. */
function cannotCall(support: BrowserSupport): void {
  form.hidden = true;
  status.textContent = 'Calls are not available in this browser';
  showUnsupportedBrowser(grid, support);
}
const support = checkBrowserSupport();
if (!support.calls) cannotCall(support);

function appendChat(from: string, text: string): void {
  const item = document.createElement('li');
  item.textContent = `${from}: ${text}`;
  chatLog.append(item);
}

function setControlsEnabled(enabled: boolean): void {
  for (const button of [micButton, cameraButton, screenButton, switchCameraButton]) button.disabled = !enabled;
  chatInput.disabled = !enabled;
}

/** Shows the local camera and screen share (again after a rejoin, when they got new sids). */
function refreshLocalTiles(current: Room): void {
  for (const element of document.querySelectorAll('.tile.local')) element.remove();
  const local = current.localParticipant;
  for (const track of local.tracks) {
    if (track.kind !== 'video') continue;
    track.detach();
    const video = track.attach();
    video.muted = true;
    video.dataset.source = track.source;
    tile(`${local.sid}-${track.source}`, track.source === 'screenShare' ? `${local.name} screen` : local.name, true).prepend(video);
  }
  micButton.textContent = local.getTrack('microphone')?.isMuted ? 'Unmute' : 'Mute';
  cameraButton.textContent = local.getTrack('camera') ? 'Camera off' : 'Camera on';
  screenButton.textContent = local.getTrack('screenShare') ? 'Stop sharing' : 'Share screen';
}

/** Runs a control action; a failure is shown and kept for automation instead of leaving the call. */
async function control(action: () => Promise<unknown>): Promise<void> {
  try {
    handle.controlError = undefined;
    await action();
  } catch (error) {
    handle.controlError = error instanceof TelemedError ? { code: error.code, message: error.message } : { code: 'UNKNOWN', message: String(error) };
    status.textContent = `${handle.controlError.code}: ${handle.controlError.message}`;
  }
  if (room?.state === 'connected') refreshLocalTiles(room);
}

micButton.addEventListener(
  'click',
  () =>
    void control(async () => {
      const mic = room?.localParticipant.getTrack('microphone');
      if (!mic) await room?.localParticipant.setMicrophoneEnabled(true);
      else if (mic.isMuted) await mic.unmute();
      else await mic.mute();
    }),
);
cameraButton.addEventListener(
  'click',
  () =>
    void control(async () => {
      const local = room?.localParticipant;
      await local?.setCameraEnabled(!local.getTrack('camera'));
    }),
);
screenButton.addEventListener(
  'click',
  () =>
    void control(async () => {
      const local = room?.localParticipant;
      const track = await local?.setScreenShareEnabled(!local.getTrack('screenShare'));
      track?.once('ended', () => room && refreshLocalTiles(room));
    }),
);
// Next camera in the device list (the same one again when there is only one): a new capture sent
// through the same producer, without renegotiating.
switchCameraButton.addEventListener(
  'click',
  () =>
    void control(async () => {
      const local = room?.localParticipant;
      const current = local?.getTrack('camera')?.mediaStreamTrack.getSettings().deviceId;
      const cameras = await listDevices('videoinput');
      const next = cameras[(cameras.findIndex((c) => c.deviceId === current) + 1) % cameras.length];
      if (local && next) await local.switchActiveDevice('videoinput', next.deviceId);
    }),
);
chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = chatInput.value.trim();
  if (!text || !room) return;
  chatInput.value = '';
  void control(async () => {
    await room?.sendChatMessage(text);
    appendChat('you', text);
  });
});
setControlsEnabled(false);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void join();
});
leaveButton.addEventListener('click', () => void room?.disconnect());
if (params.get('autojoin') === '1') void join();
