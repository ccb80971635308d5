import { deviceErrorFrom, TelemedError } from '../errors.js';

export type DeviceKind = 'videoinput' | 'audioinput' | 'audiooutput';

/** Cameras, microphones and speakers (labels are empty until the user granted a permission once). */
export async function listDevices(kind?: DeviceKind): Promise<MediaDeviceInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) throw new TelemedError('UNSUPPORTED_BROWSER', 'this browser cannot list media devices');
  const devices = await navigator.mediaDevices.enumerateDevices();
  return kind ? devices.filter((d) => d.kind === kind) : devices;
}

/** Calls `listener` with the new device list whenever a device is plugged in or removed; returns an unsubscribe function. */
export function onDeviceChange(listener: (devices: MediaDeviceInfo[]) => void): () => void {
  const handler = (): void => void listDevices().then(listener, () => undefined);
  navigator.mediaDevices.addEventListener('devicechange', handler);
  return () => navigator.mediaDevices.removeEventListener('devicechange', handler);
}

export interface DeviceCheckOptions {
  cameraId?: string;
  microphoneId?: string;
  /** Skip the camera (audio-only calls). */
  video?: boolean;
}

/** A running pre-call check: a camera preview, a live microphone level and a speaker test. */
export interface DeviceCheck {
  /** The camera track for a preview (`attachPreview`), when a camera was asked for. */
  readonly videoTrack: MediaStreamTrack | undefined;
  readonly audioTrack: MediaStreamTrack;
  /** Plays the camera in `video` (muted). */
  attachPreview(video: HTMLVideoElement): void;
  /** Microphone level now, 0..1 (RMS of the last ~20 ms). */
  micLevel(): number;
  /** Plays a short tone on the chosen speaker (`sinkId` where the browser supports it). */
  testSpeaker(sinkId?: string, durationMs?: number): Promise<void>;
  /** Releases the devices. Idempotent. */
  stop(): void;
}

/**
 * Opens the camera and microphone for a waiting room. Throws {@link PermissionError} when access is
 * denied and {@link DeviceError} when a device is missing or busy, so the page can say what to fix.
 */
export async function checkDevices(options: DeviceCheckOptions = {}): Promise<DeviceCheck> {
  const wantVideo = options.video !== false;
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: options.microphoneId ? { deviceId: { exact: options.microphoneId } } : true,
      video: wantVideo ? (options.cameraId ? { deviceId: { exact: options.cameraId } } : true) : false,
    });
  } catch (error) {
    throw deviceErrorFrom(error, wantVideo ? 'camera or microphone' : 'microphone');
  }
  const [audioTrack] = stream.getAudioTracks();
  const [videoTrack] = stream.getVideoTracks();
  if (!audioTrack) throw deviceErrorFrom(new DOMException('no microphone', 'NotFoundError'), 'microphone');
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  // Kept referenced: Firefox collects an unreferenced source node, and the analyser then reads silence.
  const source = context.createMediaStreamSource(new MediaStream([audioTrack]));
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let stopped = false;
  return {
    videoTrack,
    audioTrack,
    attachPreview(video) {
      if (!videoTrack) return;
      video.muted = true;
      video.playsInline = true;
      video.srcObject = new MediaStream([videoTrack]);
      void video.play().catch(() => undefined);
    },
    micLevel() {
      // Browsers start an AudioContext suspended until the page had a user gesture.
      if (context.state === 'suspended') void context.resume().catch(() => undefined);
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      return Math.min(1, Math.sqrt(sum / samples.length) * 4);
    },
    async testSpeaker(sinkId, durationMs = 600) {
      const output = new AudioContext();
      const withSink = output as AudioContext & { setSinkId?: (id: string) => Promise<void> };
      if (sinkId && withSink.setSinkId) await withSink.setSinkId(sinkId);
      const oscillator = output.createOscillator();
      oscillator.frequency.value = 440;
      oscillator.connect(output.destination);
      oscillator.start();
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      oscillator.stop();
      await output.close();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const track of stream.getTracks()) track.stop();
      source.disconnect();
      void context.close();
    },
  };
}
