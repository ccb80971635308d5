import type { types as msTypes } from 'mediasoup-client';

/** A video codec the camera may be sent with (the router offers all three). */
export type VideoCodecName = 'vp8' | 'vp9' | 'h264';

/**
 * The device's capability for `name` (shared by the router and this browser), or undefined: then
 * the first codec both support is used (VP8).
 */
export function findVideoCodec(capabilities: msTypes.RtpCapabilities, name: VideoCodecName | 'auto'): msTypes.RtpCodecCapability | undefined {
  if (name === 'auto') return undefined;
  return capabilities.codecs?.find((c) => c.kind === 'video' && c.mimeType.toLowerCase() === `video/${name}`);
}

/**
 * VP9 camera: one SVC encoding instead of simulcast. Spatial layers at ¼, ½ and full resolution as
 * the capture allows (3 from 540p, 2 from 270p, else 1), three temporal layers each; `_KEY`: upper
 * spatial layers depend on lower ones only in key frames, so the SFU can drop them cheaply.
 */
export function svcCameraEncodings(captureHeight: number | undefined): RTCRtpEncodingParameters[] {
  const height = captureHeight ?? 720;
  const spatial = height >= 540 ? 3 : height >= 270 ? 2 : 1;
  return [
    {
      scalabilityMode: spatial === 1 ? 'L1T3' : `L${spatial}T3_KEY`,
      maxBitrate: spatial === 3 ? 1_500_000 : spatial === 2 ? 700_000 : 400_000,
    } as RTCRtpEncodingParameters,
  ];
}
