// Join diagnostics, only at log level `trace` (bench:join turns it on): when a transport's ICE and
// DTLS connect, when a consumer resumes, the first RTP packet a consumer forwards, and every
// keyframe and keyframe request (PLI/FIR) on consumers and producers, each with its wall-clock
// time (`at`, ms since the epoch) so a page's timeline can be merged with the server's.
import type { types } from 'mediasoup';
import type { Logger } from './logger.js';

const MSG = 'join trace';

/** Keyframe-related packets only: an RTP trace on every packet would cost the worker too much. */
const KEYFRAME_EVENTS: types.ConsumerTraceEventType[] = ['keyframe', 'pli', 'fir'];

function ssrcOf(info: unknown): number | undefined {
  const data = info as { ssrc?: unknown; mediaSsrc?: unknown } | undefined;
  const ssrc = data?.ssrc ?? data?.mediaSsrc;
  return typeof ssrc === 'number' ? ssrc : undefined;
}

export function traceTransport(logger: Logger, transport: types.WebRtcTransport, peerId: string, direction: string): void {
  if (!logger.isLevelEnabled('trace')) return;
  const at = (): number => Date.now();
  transport.on('icestatechange', (state) => logger.trace({ join: `${direction} transport ice ${state}`, peerId, at: at() }, MSG));
  transport.on('dtlsstatechange', (state) => logger.trace({ join: `${direction} transport dtls ${state}`, peerId, at: at() }, MSG));
}

export function traceConsumer(logger: Logger, consumer: types.Consumer, peerId: string): void {
  if (!logger.isLevelEnabled('trace')) return;
  const base = { peerId, consumerId: consumer.id, kind: consumer.kind };
  let firstRtp = true;
  consumer.observer.on('resume', () => logger.trace({ ...base, join: `${consumer.kind} consumer resumed`, at: Date.now() }, MSG));
  consumer.on('trace', (event) => {
    if (event.type === 'rtp') {
      if (!firstRtp) return;
      firstRtp = false;
      void consumer.enableTraceEvent(KEYFRAME_EVENTS).catch(() => undefined);
    }
    logger.trace({ ...base, join: `${consumer.kind} consumer ${event.type} ${event.direction}`, ssrc: ssrcOf(event.info), at: Date.now() }, MSG);
  });
  void consumer.enableTraceEvent(['rtp', ...KEYFRAME_EVENTS]).catch(() => undefined);
}

/** Logs a video producer's keyframes and keyframe requests; the Room's KeyFrameGate enables those trace events. */
export function traceProducer(logger: Logger, producer: types.Producer, peerId: string): void {
  if (!logger.isLevelEnabled('trace') || producer.kind !== 'video') return;
  producer.on('trace', (event) => {
    logger.trace({ peerId, producerId: producer.id, join: `producer ${event.type} ${event.direction}`, ssrc: ssrcOf(event.info), at: Date.now() }, MSG);
  });
}
