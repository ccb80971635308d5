import type { types as msTypes } from 'mediasoup-client';
import { AdaptiveStream, spatialLayerFor, type RenderState } from '../room/AdaptiveStream.js';
import type { ConsumerLayers } from '../protocol/messages.js';
import { Track } from './Track.js';

/** A video quality a subscriber can ask for; `auto` follows the rendered size (adaptive stream). */
export type VideoQuality = 'low' | 'medium' | 'high' | 'auto';
const QUALITY_LAYER: Record<Exclude<VideoQuality, 'auto'>, number> = { low: 0, medium: 1, high: 2 };

/** @internal How a remote track asks the SFU to change what it forwards. */
export interface SubscriptionControl {
  pause(): Promise<void>;
  resume(): Promise<void>;
  setPreferredLayers(spatialLayer: number): Promise<void>;
}

/** A track another participant publishes, received through the SFU. */
export class RemoteTrack extends Track {
  readonly #consumer: msTypes.Consumer;
  readonly #control: SubscriptionControl | undefined;
  readonly #adaptive: AdaptiveStream | undefined;
  #quality: VideoQuality = 'auto';
  #render: RenderState | undefined;
  #pausedBySubscriber = false;
  #preferredLayer: number | undefined;
  #currentLayers: ConsumerLayers | null = null;
  #score: { score: number; producerScore: number } | undefined;

  /** @internal */
  constructor(consumer: msTypes.Consumer, source: Track.Source, producerPaused: boolean, control?: SubscriptionControl) {
    super(consumer.track, source);
    this.#consumer = consumer;
    this.#control = control;
    this.setMuted(producerPaused);
    if (control && consumer.kind === 'video') {
      this.#adaptive = new AdaptiveStream((state) => {
        this.#render = state;
        void this.#apply();
      });
    }
  }

  /** The publisher's producer id, stable for the track's life. */
  get sid(): string {
    return this.#consumer.producerId;
  }

  /** @internal */
  get consumerId(): string {
    return this.#consumer.id;
  }

  /** The simulcast/SVC layers the SFU forwards now (null: none, or not a layered track). */
  get currentLayers(): ConsumerLayers | null {
    return this.#currentLayers;
  }

  /** The SFU's quality score of this track (0-10) and of its publisher's upload, when known. */
  get score(): { score: number; producerScore: number } | undefined {
    return this.#score;
  }

  /** True while the SFU does not forward this track because nobody can see it. */
  get isPausedBySubscriber(): boolean {
    return this.#pausedBySubscriber;
  }

  override attach(element?: HTMLMediaElement): HTMLMediaElement {
    const target = super.attach(element);
    this.#adaptive?.observe(target);
    return target;
  }

  override detach(element?: HTMLMediaElement): HTMLMediaElement[] {
    const targets = super.detach(element);
    for (const target of targets) this.#adaptive?.unobserve(target);
    return targets;
  }

  /** Asks for a fixed quality instead of following the rendered size (video only). */
  setPreferredQuality(quality: VideoQuality): Promise<void> {
    this.#quality = quality;
    return this.#apply();
  }

  /** The browser's RTCStatsReport for this track's receiver. */
  getStats(): Promise<RTCStatsReport> {
    return this.#consumer.getStats();
  }

  async #apply(): Promise<void> {
    const control = this.#control;
    if (!control || this.kind !== 'video' || this.#consumer.closed) return;
    const render = this.#render;
    // Until the first measurement (or when never attached) the track flows at the quality asked for.
    const visible = this.#quality !== 'auto' || !render || render.visible;
    try {
      if (!visible) {
        if (!this.#pausedBySubscriber) {
          this.#pausedBySubscriber = true;
          await control.pause();
        }
        return;
      }
      const layer = this.#quality === 'auto' ? (render ? spatialLayerFor(render) : 2) : QUALITY_LAYER[this.#quality];
      if (layer !== this.#preferredLayer) {
        this.#preferredLayer = layer;
        await control.setPreferredLayers(layer);
      }
      if (this.#pausedBySubscriber) {
        this.#pausedBySubscriber = false;
        await control.resume();
      }
    } catch (error) {
      console.warn('[telemed] could not update a subscription', error);
    }
  }

  /** @internal */
  handleMuted(muted: boolean): void {
    this.setMuted(muted);
  }

  /** @internal */
  handleLayersChanged(layers: ConsumerLayers | null): void {
    this.#currentLayers = layers;
  }

  /** @internal */
  handleScore(score: { score: number; producerScore: number }): void {
    this.#score = score;
  }

  /** @internal */
  close(): void {
    this.detach();
    this.#adaptive?.close();
    this.#consumer.close();
  }
}
