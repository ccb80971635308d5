// The bots' own media stack: a mediasoup router on a separate worker. A publisher injects
// synthetic RTP through a DirectTransport producer and sends it out of its own SRTP PlainTransport
// to the SFU's; a subscriber's PlainTransport decrypts what the SFU forwards into one counting
// producer per consumer, whose stats say how many packets arrived and how many were lost.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import {
  AUDIO_PAYLOAD_TYPE,
  isKeyframeRequest,
  OpusStream,
  VIDEO_PAYLOAD_TYPE,
  Vp8Stream,
  type AudioSource,
  type StreamProfile,
  type VideoSource,
} from './rtp.js';
import { PLAIN_SRTP, SFU_CODECS, type SfuSession } from './targets.js';

/**
 * Capabilities the bots announce: VP8 and Opus with PLI only. No NACK, RTX or transport-cc, so
 * every counted packet was forwarded once and the SFU does no retransmission work the browsers'
 * loss would not have caused.
 */
function botCapabilities(from: types.RtpCapabilities): types.RtpCapabilities {
  return {
    codecs: (from.codecs ?? [])
      .filter((c) => c.mimeType === 'video/VP8' || c.mimeType === 'audio/opus')
      .map((c) => ({ ...c, rtcpFeedback: c.kind === 'video' ? [{ type: 'nack', parameter: 'pli' }] : [] })),
    headerExtensions: [],
  };
}

export interface BotCounts {
  sentVideo: number;
  sentAudio: number;
  /** RTP bytes sent (headers and payload), both tracks. */
  sentBytes: number;
  received: number;
  /** RTP bytes that arrived from the SFU, every consumer. */
  receivedBytes: number;
  lost: number;
}

export class Bot {
  readonly identity: string;
  readonly session: SfuSession;
  readonly #side: BotSide;
  readonly #counters: types.Producer[] = [];
  readonly #pendingConsumers: Promise<void>[] = [];
  #video: VideoSource | undefined;
  #audio: AudioSource | undefined;
  #videoProducer: types.Producer | undefined;
  #audioProducer: types.Producer | undefined;
  #local: types.PlainTransport[] = [];
  #direct: types.DirectTransport | undefined;
  sentVideo = 0;
  sentAudio = 0;
  sentBytes = 0;

  constructor(side: BotSide, identity: string, session: SfuSession) {
    this.#side = side;
    this.identity = identity;
    this.session = session;
  }

  get consumers(): number {
    return this.#counters.length;
  }

  async #pair(direction: 'send' | 'recv'): Promise<{ local: types.PlainTransport; remoteId: string }> {
    const remote = await this.session.createPlainTransport(direction);
    const local = await this.#side.router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, ...PLAIN_SRTP });
    this.#local.push(local);
    await local.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
    await this.session.connectPlainTransport({
      transportId: remote.id,
      ip: local.tuple.localIp,
      port: local.tuple.localPort,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: local.srtpParameters?.keyBase64 ?? '' },
    });
    return { local, remoteId: remote.id };
  }

  /**
   * Joins; subscribes when `subscribe`, and publishes camera + microphone when `profile` is given:
   * synthetic RTP of that profile, or what `sources` makes for the bot's SSRCs (real encoded media).
   */
  async start(options: {
    subscribe: boolean;
    profile?: StreamProfile;
    sources?: (ssrc: { video: number; audio: number }) => { video: VideoSource; audio: AudioSource };
  }): Promise<void> {
    if (options.subscribe) {
      const recv = await this.#pair('recv');
      this.session.onConsumer = (offer) => {
        this.#pendingConsumers.push(
          (async () => {
            this.#counters.push(await recv.local.produce({ kind: offer.kind, rtpParameters: offer.rtpParameters }));
            await this.session.resumeConsumer(offer.consumerId);
          })(),
        );
      };
    }
    const send = options.profile ? await this.#pair('send') : undefined;
    await this.session.join(botCapabilities(this.#side.router.rtpCapabilities));
    if (!send || !options.profile) return;
    const direct = await this.#side.router.createDirectTransport();
    this.#direct = direct;
    const videoSsrc = this.#side.nextSsrc();
    const audioSsrc = this.#side.nextSsrc();
    const sources = options.sources?.({ video: videoSsrc, audio: audioSsrc });
    this.#video = sources?.video ?? new Vp8Stream(videoSsrc, options.profile);
    this.#audio = sources?.audio ?? new OpusStream(audioSsrc, options.profile.audioPayloadBytes);
    this.#videoProducer = await direct.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PAYLOAD_TYPE, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }],
        encodings: [{ ssrc: videoSsrc }],
      },
    });
    this.#audioProducer = await direct.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PAYLOAD_TYPE, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: audioSsrc }] },
    });
    // The SFU's PLI (a subscriber resumed) reaches the direct transport as RTCP: answer with a keyframe.
    direct.on('rtcp', (packet) => {
      if (isKeyframeRequest(packet)) this.#video?.requestKeyframe();
    });
    const sfuCaps = botCapabilities(this.session.routerRtpCapabilities);
    for (const [producer, source] of [
      [this.#videoProducer, 'camera'],
      [this.#audioProducer, 'microphone'],
    ] as const) {
      const toSfu = await send.local.consume({ producerId: producer.id, rtpCapabilities: sfuCaps });
      await this.session.produce({ transportId: send.remoteId, kind: producer.kind, source, rtpParameters: toSfu.rtpParameters });
    }
  }

  /** Waits until every consumer offered so far has its counter and was resumed. */
  async settled(): Promise<void> {
    for (let done = 0; done < this.#pendingConsumers.length; done = this.#pendingConsumers.length) {
      await Promise.all(this.#pendingConsumers.slice(done));
    }
  }

  sendVideoFrame(): void {
    if (!this.#video || !this.#videoProducer) return;
    for (const packet of this.#video.nextFrame()) {
      this.#videoProducer.send(packet);
      this.sentVideo++;
      this.sentBytes += packet.length;
    }
  }

  sendAudioFrame(): void {
    if (!this.#audio || !this.#audioProducer) return;
    const packet = this.#audio.next();
    this.#audioProducer.send(packet);
    this.sentAudio++;
    this.sentBytes += packet.length;
  }

  async counts(): Promise<BotCounts> {
    let received = 0;
    let receivedBytes = 0;
    let lost = 0;
    const stats = await Promise.all(this.#counters.map((c) => c.getStats()));
    for (const list of stats) {
      for (const s of list) {
        received += s.packetCount;
        receivedBytes += s.byteCount;
        lost += Math.max(0, s.packetsLost);
      }
    }
    return { sentVideo: this.sentVideo, sentAudio: this.sentAudio, sentBytes: this.sentBytes, received, receivedBytes, lost };
  }

  async close(): Promise<void> {
    await this.session.close();
    for (const t of this.#local) t.close();
    this.#direct?.close();
  }
}

/** The bots' mediasoup worker and router (a separate process from the SFU's workers). */
export class BotSide {
  readonly worker: types.Worker;
  readonly router: types.Router;
  #ssrc = 10_000;

  private constructor(worker: types.Worker, router: types.Router) {
    this.worker = worker;
    this.router = router;
  }

  static async create(): Promise<BotSide> {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    return new BotSide(worker, await worker.createRouter({ mediaCodecs: SFU_CODECS }));
  }

  nextSsrc(): number {
    return this.#ssrc++;
  }

  close(): void {
    this.worker.close();
  }
}
