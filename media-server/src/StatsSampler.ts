import type { ServerTrackStatsSample } from '@telemed/sdk/protocol';
import type { MediaEventReporter } from './events/MediaEventReporter.js';
import type { Logger } from './logger.js';
import type { Room } from './Room.js';
import type { RoomManager } from './RoomManager.js';
import { sampleRoom, type RoomSample } from './RoomStats.js';

export interface StatsSamplerOptions {
  rooms: RoomManager;
  intervalMs: number;
  reporter?: MediaEventReporter;
  /** Every room's sample as it is taken (metrics). */
  observe?: (roomId: string, sample: RoomSample) => void;
  logger: Logger;
}

/**
 * Samples every room's producers and consumers every `intervalMs`: keeps the latest sample per
 * track in memory (the admin's live view) and reports each room's samples as a `track_stats` event.
 */
export class StatsSampler {
  readonly #options: StatsSamplerOptions;
  readonly #latest = new Map<string, Map<string, ServerTrackStatsSample>>();
  readonly #timer: NodeJS.Timeout;
  #running = false;

  constructor(options: StatsSamplerOptions) {
    this.#options = options;
    options.rooms.on('roomClosed', (room) => this.#latest.delete(room.id));
    this.#timer = setInterval(() => void this.sampleNow(), options.intervalMs);
    this.#timer.unref();
  }

  /** The latest sample of every live track in the room. */
  latest(roomId: string): ServerTrackStatsSample[] {
    return [...(this.#latest.get(roomId)?.values() ?? [])];
  }

  async sampleNow(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await Promise.all([...this.#options.rooms.rooms.values()].map(({ room }) => this.#sample(room)));
    } finally {
      this.#running = false;
    }
  }

  async #sample(room: Room): Promise<void> {
    try {
      const sample = await sampleRoom(room);
      if (room.closed) return;
      this.#options.observe?.(room.id, sample);
      const { samples } = sample;
      this.#latest.set(room.id, new Map(samples.map((s) => [s.trackId, s])));
      if (samples.length > 0) this.#options.reporter?.report(room, { type: 'track_stats', roomId: room.id, at: new Date().toISOString(), samples });
    } catch (error) {
      this.#options.logger.warn({ err: error, roomId: room.id }, 'stats sampling failed');
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
