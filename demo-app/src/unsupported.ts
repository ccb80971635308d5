// The page a browser that cannot make calls gets instead of a blank call screen: what is missing,
// which browsers to use, and (where getUserMedia exists without WebRTC) a working camera preview
// and microphone level, so a patient can still check their devices and knows what to change.
import { checkDevices, SUPPORTED_BROWSERS_HINT, TelemedError, type BrowserSupport, type DeviceCheck } from '@telemed/sdk';

/** Replaces `root`'s content with the explanation and, when possible, a device check. */
export function showUnsupportedBrowser(root: HTMLElement, support: BrowserSupport): void {
  if (document.getElementById('unsupported')) return;
  const section = document.createElement('section');
  section.id = 'unsupported';
  section.setAttribute('role', 'alert');
  const heading = document.createElement('h2');
  heading.textContent = 'This browser cannot make calls';
  const why = document.createElement('p');
  why.id = 'unsupported-reason';
  why.textContent = `It lacks ${support.missing.join(', ')}. To join a call, ${SUPPORTED_BROWSERS_HINT}.`;
  section.append(heading, why);
  root.replaceChildren(section);
  if (support.devices) void deviceCheck(section);
}

/** The SDK's pre-call check (it needs getUserMedia, not WebRTC): camera preview and mic level. */
async function deviceCheck(section: HTMLElement): Promise<void> {
  const note = document.createElement('p');
  note.id = 'device-check';
  note.textContent = 'Checking your camera and microphone…';
  section.append(note);
  let check: DeviceCheck;
  try {
    check = await checkDevices();
  } catch (error) {
    note.textContent = `Your camera or microphone could not be opened here either (${error instanceof TelemedError ? error.message : String(error)}).`;
    return;
  }
  const video = document.createElement('video');
  video.id = 'camera-preview';
  video.setAttribute('aria-label', 'Your camera preview');
  const meter = document.createElement('meter');
  meter.id = 'mic-level';
  meter.min = 0;
  meter.max = 1;
  meter.setAttribute('aria-label', 'Microphone level');
  note.textContent = 'Your camera and microphone work in this browser; only calls need another one.';
  section.append(video, meter);
  check.attachPreview(video);
  const tick = (): void => {
    meter.value = check.micLevel();
    requestAnimationFrame(tick);
  };
  tick();
}
