import { listDevices, onDeviceChange } from '@telemed/sdk';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { DeviceChoice } from './devices.js';

/** Camera, microphone and speaker selects; the lists follow devices being plugged in or out. */
export function DevicePickers({ choice, onChange, video }: { choice: DeviceChoice; onChange: (choice: DeviceChoice) => void; video: boolean }) {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    void listDevices().then(setDevices, () => undefined);
    return onDeviceChange(setDevices);
  }, []);
  const of = (kind: MediaDeviceKind): MediaDeviceInfo[] => devices.filter((d) => d.kind === kind && d.deviceId);
  const select = (id: string, label: string, kind: MediaDeviceKind, value: string | undefined, set: (id: string | undefined) => void, fallback: string) => html`
    <label for=${id}>${label}</label>
    <select id=${id} value=${value ?? ''} onChange=${(e: Event) => set((e.target as HTMLSelectElement).value || undefined)}>
      ${value === undefined && html`<option value="">Default</option>`}
      ${of(kind).map((d, i) => html`<option key=${d.deviceId} value=${d.deviceId}>${d.label || `${fallback} ${i + 1}`}</option>`)}
    </select>`;
  const speakers = of('audiooutput');
  return html`
    <div class="device-pickers">
      ${video && select('camera-select', 'Camera', 'videoinput', choice.cameraId, (cameraId) => onChange({ ...choice, cameraId }), 'Camera')}
      ${select('mic-select', 'Microphone', 'audioinput', choice.microphoneId, (microphoneId) => onChange({ ...choice, microphoneId }), 'Microphone')}
      ${speakers.length > 0 && select('speaker-select', 'Speaker', 'audiooutput', choice.speakerId, (speakerId) => onChange({ ...choice, speakerId }), 'Speaker')}
    </div>`;
}
