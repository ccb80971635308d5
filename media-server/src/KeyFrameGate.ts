import type { types } from 'mediasoup';

/**
 * A browser's video sender honours a keyframe request (PLI/FIR) only when the last one it honoured
 * is at least this long ago (libwebrtc's EncoderRtcpFeedback: one window per sender, all simulcast
 * layers together); it silently drops the others.
 */
export const PUBLISHER_KEYFRAME_WINDOW_MS = 300;
/** Slack for the request's way to the publisher. */
const MARGIN_MS = 10;

/**
 * Starting a consumer makes mediasoup ask the publisher for a keyframe; if that request falls inside
 * the publisher's window it is dropped, and mediasoup repeats an unanswered request only after
 * 1 s: the subscriber's first frame then takes ~1.1 s instead of ~0.1 s (measured by bench:join
 * with joins back to back). The gate follows the requests mediasoup sends to the publisher and the
 * keyframes that answer them (producer trace events), so that a consumer can start just after the
 * window instead of inside it.
 *
 * The publisher's window opens when it takes a request, somewhere between the request leaving us
 * and its keyframe arriving: the gate counts from the keyframe's arrival, which may wait a few ms
 * longer than needed but never starts a consumer inside the window.
 */
export class KeyFrameGate {
  /** Arrival of the last keyframe that answered a request. */
  #answeredAt: number | undefined;
  /** A request left since the last keyframe: its keyframe (if it was taken) is on its way. */
  #requestPending = false;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Follows the keyframe requests mediasoup sends to a video producer's publisher and its keyframes. */
  static forProducer(producer: types.Producer): KeyFrameGate {
    const gate = new KeyFrameGate();
    producer.on('trace', (event) => {
      if ((event.type === 'pli' || event.type === 'fir') && event.direction === 'out') gate.requestSent();
      else if (event.type === 'keyframe' && event.direction === 'in') gate.keyFrameReceived();
    });
    void producer.enableTraceEvent(['pli', 'fir', 'keyframe']).catch(() => undefined);
    return gate;
  }

  requestSent(): void {
    this.#requestPending = true;
  }

  /** Keyframes come one packet per simulcast layer; only the first after a request answers it. */
  keyFrameReceived(): void {
    if (!this.#requestPending) return;
    this.#requestPending = false;
    this.#answeredAt = this.#now();
  }

  /**
   * How long (ms) a consumer should wait before starting. 0 while a request is pending: its
   * keyframe serves a consumer started now too (and a new request would be held back by mediasoup
   * behind it anyway).
   */
  delayMs(): number {
    if (this.#requestPending || this.#answeredAt === undefined) return 0;
    return Math.max(0, this.#answeredAt + PUBLISHER_KEYFRAME_WINDOW_MS + MARGIN_MS - this.#now());
  }
}
