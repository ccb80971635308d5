// The devices a user picked for a call, as capture constraints.
export interface DeviceChoice {
  cameraId: string | undefined;
  microphoneId: string | undefined;
  speakerId: string | undefined;
}

export const DEFAULT_DEVICES: DeviceChoice = { cameraId: undefined, microphoneId: undefined, speakerId: undefined };

export function videoConstraints(cameraId: string | undefined): MediaTrackConstraints {
  return { width: 1280, height: 720, ...(cameraId ? { deviceId: { exact: cameraId } } : {}) };
}

export function audioConstraints(microphoneId: string | undefined): MediaTrackConstraints {
  return { echoCancellation: true, noiseSuppression: true, ...(microphoneId ? { deviceId: { exact: microphoneId } } : {}) };
}
