// Loading a mediasoup-client Device takes the page ~15 ms (a throw-away peer connection tells the
// browser's codecs) and needs the router's RTP capabilities, which come in the welcome. They change
// only when the media server's codec configuration does, so the last ones seen are kept in
// localStorage and the next join starts loading a Device with them while its socket opens; the
// welcome then only confirms them.
import { Device, type types as msTypes } from 'mediasoup-client';

const STORAGE_KEY = 'telemed.routerRtpCapabilities';

export interface DevicePreload {
  /** The capabilities it was loaded with, as stored (JSON). */
  readonly capabilities: string;
  readonly device: Promise<Device>;
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    // Storage can be blocked (sandboxed frames, some privacy settings): no preload then.
    return undefined;
  }
}

async function loadDevice(routerRtpCapabilities: msTypes.RtpCapabilities): Promise<Device> {
  const device = new Device();
  await device.load({ routerRtpCapabilities });
  return device;
}

/** Starts loading a Device with the router capabilities the last join saw; undefined when there are none. */
export function preloadDevice(): DevicePreload | undefined {
  let capabilities: string | null | undefined;
  try {
    capabilities = storage()?.getItem(STORAGE_KEY);
  } catch {
    return undefined;
  }
  if (!capabilities) return undefined;
  let parsed: msTypes.RtpCapabilities;
  try {
    parsed = JSON.parse(capabilities) as msTypes.RtpCapabilities;
  } catch {
    return undefined;
  }
  const device = loadDevice(parsed);
  device.catch(() => undefined);
  return { capabilities, device };
}

/**
 * The Device for a welcome's router capabilities: the preloaded one when they are the same, else a
 * newly loaded one. Remembers the capabilities for the next join.
 */
export async function deviceFor(routerRtpCapabilities: msTypes.RtpCapabilities, preload: DevicePreload | undefined): Promise<Device> {
  const capabilities = JSON.stringify(routerRtpCapabilities);
  let device: Device | undefined;
  if (preload?.capabilities === capabilities) device = await preload.device.catch(() => undefined);
  device ??= await loadDevice(routerRtpCapabilities);
  try {
    storage()?.setItem(STORAGE_KEY, capabilities);
  } catch {
    // Full or blocked storage: the next join loads after its welcome, as without a preload.
  }
  return device;
}
