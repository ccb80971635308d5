// The development call page: fetch a room token from the API's dev endpoint, join, publish camera
// and microphone, and show every participant's tracks. Uses only the SDK's public entry.
import { Room, TelemedError, type RemoteParticipant, type RemoteTrack } from '@telemed/sdk';
import { checkBrowserSupport, UnsupportedBrowserError, type BrowserSupport } from '@telemed/sdk';
import { showUnsupportedBrowser } from './unsupported.js';

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

const params = new URLSearchParams(location.search);
roomInput.value = params.get('room') ?? roomInput.value;
nameInput.value = params.get('name') ?? `guest-${Math.random().toString(36).slice(2, 6)}`;

let room: Room | undefined;

/** What the page exposes for automation and debugging: the room and the last join error. */
interface PageHandle {
  room: Room | undefined;
  error: { code: string; message: string } | undefined;
}
const handle: PageHandle = { room: undefined, error: undefined };
(window as unknown as { telemed: PageHandle }).telemed = handle;

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
  const current = new Room();
  room = current;
  handle.room = current;
  handle.error = undefined;
  current.on('connectionStateChanged', (state) => (status.textContent = state === 'connected' ? `Connected to ${current.name ?? ''}` : state));
  current.on('trackSubscribed', showRemoteTrack);
  current.on('trackUnsubscribed', (track) => track.detach().forEach((element) => element.remove()));
  current.on('participantLeft', (participant) => document.getElementById(`tile-${participant.sid}`)?.remove());
  current.on('disconnected', (error) => {
    status.textContent = error ? `Disconnected: ${error.message}` : 'Disconnected';
    grid.replaceChildren();
    joinButton.disabled = false;
    leaveButton.disabled = true;
  });
  try {
    // A token given in the URL (e.g. issued by another system) is used as is.
    const given = params.get('token');
    const { token, url } = given ? { token: given, url: params.get('url') ?? '' } : await requestToken(roomInput.value, nameInput.value);
    await current.connect(url, token);
    leaveButton.disabled = false;
    const local = current.localParticipant;
    const camera = await local.setCameraEnabled(true);
    await local.setMicrophoneEnabled(true);
    if (camera) {
      const video = camera.attach();
      video.muted = true;
      tile(local.sid, local.name, true).prepend(video);
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

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void join();
});
leaveButton.addEventListener('click', () => void room?.disconnect());
if (params.get('autojoin') === '1') void join();
