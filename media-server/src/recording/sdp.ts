import type { types } from 'mediasoup';

/**
 * The SDP FFmpeg reads to receive one consumer's RTP on 127.0.0.1 (`rtpPort`, RTCP on `rtcpPort`):
 * the consumer's first codec (the media; RTX and FEC payloads are left out and so ignored).
 */
export function sdpFor(rtp: types.RtpParameters, rtpPort: number, rtcpPort: number): string {
  const codec = rtp.codecs[0];
  if (!codec) throw new Error('the consumer has no codec');
  const [kind, name] = codec.mimeType.split('/') as [string, string];
  const rtpmap = `${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`;
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=telemed-recording',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=${kind} ${rtpPort} RTP/AVP ${codec.payloadType}`,
    `a=rtcp:${rtcpPort}`,
    `a=rtpmap:${codec.payloadType} ${rtpmap}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\n');
}
