// Before joining: camera preview, microphone level, device pickers, speaker test, and join.
import { checkDevices, TelemedError, type DeviceCheck } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CallType } from '../backend/types.js';
import { errorMessage } from '../format.js';
import { DevicePickers } from './DevicePickers.js';
import { DEFAULT_DEVICES, type DeviceChoice } from './devices.js';
import { Icon } from '../icons.js';

export interface WaitingRoomProps {
  type: CallType;
  title: string;
  /** Shown while the caller waits for an answer. */
  status?: string;
  /** The status line's test id (the caller's "ringing", a patient's "lobby"). */
  statusId?: string;
  joinLabel?: string;
  onJoin?: (choice: DeviceChoice) => void;
  /** Told of every device change (the caller joins with what was chosen while it rang). */
  onChoice?: (choice: DeviceChoice) => void;
  onCancel: () => void;
  cancelLabel: string;
}

export function WaitingRoom({ type, title, status, statusId = 'ringing', joinLabel = 'Join call', onJoin, onChoice, onCancel, cancelLabel }: WaitingRoomProps) {
  const [choice, setChoice] = useState<DeviceChoice>(DEFAULT_DEVICES);
  const [level, setLevel] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const videoRef = useRef<HTMLVideoElement>(null);
  const check = useRef<DeviceCheck | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    checkDevices({
      video: type === 'video',
      ...(choice.cameraId ? { cameraId: choice.cameraId } : {}),
      ...(choice.microphoneId ? { microphoneId: choice.microphoneId } : {}),
    }).then(
      (c) => {
        if (cancelled) return c.stop();
        check.current = c;
        setError(undefined);
        if (videoRef.current) c.attachPreview(videoRef.current);
        timer = setInterval(() => setLevel(c.micLevel()), 100);
      },
      (e: unknown) => setError(e instanceof TelemedError ? e.message : `Camera or microphone unavailable: ${errorMessage(e)}`),
    );
    return () => {
      cancelled = true;
      clearInterval(timer);
      check.current?.stop();
      check.current = undefined;
    };
  }, [choice.cameraId, choice.microphoneId, type]);

  const percent = Math.round(level * 100);
  return html`
    <section class="waiting-room" aria-labelledby="waiting-title" data-testid="waiting-room">
      <h2 id="waiting-title">${title}</h2>
      ${
        type === 'video'
          ? html`<video class="preview" ref=${videoRef} autoplay playsinline muted aria-label="Your camera preview"></video>`
          : html`<div class="preview voice" aria-hidden="true"><${Icon} name="phone" size=${48} /></div>`
      }
      <div class="meter" role="meter" aria-label="Microphone level" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${percent} data-level=${percent}>
        <span style=${`width:${percent}%`}></span>
      </div>
      <${DevicePickers} choice=${choice} video=${type === 'video'} onChange=${(c: DeviceChoice) => {
        setChoice(c);
        onChoice?.(c);
      }} />
      <button type="button" class="link" onClick=${() => void check.current?.testSpeaker(choice.speakerId).catch((e: unknown) => setError(errorMessage(e)))}><${Icon} name="speaker" size=${16} /> Test speaker</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${status && html`<p class="status ringing" role="status" aria-live="polite" data-testid=${statusId}>${status}</p>`}
      <div class="row">
        <button type="button" class="danger" onClick=${onCancel}>${cancelLabel}</button>
        ${onJoin && html`<button type="button" class="success" id="join-call" onClick=${() => onJoin(choice)}>${joinLabel}</button>`}
      </div>
    </section>`;
}
