import type { Logger } from './logger.js';
import type { Room } from './Room.js';

export interface CallDurationLimitOptions {
  room: Room;
  /** The room closes (`max_duration`) this long after the call started, ms (MAX_CALL_DURATION). */
  durationMs: number;
  /**
   * When the call started, ms since 1970 (from the room token): a room rebuilt on another node
   * keeps the call's clock. Now when omitted or in the future (another host's clock).
   */
  startedAt?: number;
  /** Seconds before the end at which everyone is told (`callEndingSoon`); those that do not fit are skipped. */
  warningsSec: readonly number[];
  logger: Logger;
}

/**
 * A room's maximum duration: warns everyone in the call at each warning time, tells a participant
 * who joins after the first warning at once (also when the room was created after it, on another
 * node), and closes the room at the end.
 */
export class CallDurationLimit {
  /** When the room closes, ms since 1970. */
  readonly endsAt: number;
  readonly #timers: NodeJS.Timeout[] = [];
  #warned = false;

  constructor(options: CallDurationLimitOptions) {
    const { room, durationMs, warningsSec, logger } = options;
    const now = Date.now();
    this.endsAt = Math.min(options.startedAt ?? now, now) + durationMs;
    room.announceEnd(this.endsAt);
    for (const seconds of new Set(warningsSec)) {
      if (seconds * 1000 >= durationMs) continue;
      const delayMs = this.endsAt - seconds * 1000 - now;
      if (delayMs <= 0) this.#warned = true;
      else
        this.#schedule(delayMs, () => {
          this.#warned = true;
          for (const peer of room.joinedPeers()) peer.notify('callEndingSoon', this.#notice());
        });
    }
    this.#schedule(Math.max(0, this.endsAt - now), () => {
      logger.info({ roomId: room.id }, 'room reached its maximum duration');
      room.close('max_duration');
    });
    room.on('peerJoined', (peer) => {
      if (this.#warned) peer.notify('callEndingSoon', this.#notice());
    });
    room.once('close', () => this.close());
  }

  #schedule(delayMs: number, run: () => void): void {
    const timer = setTimeout(run, delayMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #notice(): { endsAt: string; secondsLeft: number } {
    return { endsAt: new Date(this.endsAt).toISOString(), secondsLeft: Math.max(0, Math.ceil((this.endsAt - Date.now()) / 1000)) };
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.length = 0;
  }
}
