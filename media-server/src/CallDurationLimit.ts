import type { Logger } from './logger.js';
import type { Room } from './Room.js';

export interface CallDurationLimitOptions {
  room: Room;
  /** The room closes (`max_duration`) this long after the limit starts, ms (MAX_CALL_DURATION). */
  durationMs: number;
  /** Seconds before the end at which everyone is told (`callEndingSoon`); those that do not fit are skipped. */
  warningsSec: readonly number[];
  logger: Logger;
}

/**
 * A room's maximum duration: warns everyone in the call at each warning time, tells a participant
 * who joins after the first warning at once, and closes the room at the end.
 */
export class CallDurationLimit {
  /** When the room closes, ms since 1970. */
  readonly endsAt: number;
  readonly #timers: NodeJS.Timeout[] = [];
  #warned = false;

  constructor(options: CallDurationLimitOptions) {
    const { room, durationMs, warningsSec, logger } = options;
    this.endsAt = Date.now() + durationMs;
    for (const seconds of new Set(warningsSec)) {
      if (seconds * 1000 >= durationMs) continue;
      this.#schedule(durationMs - seconds * 1000, () => {
        this.#warned = true;
        for (const peer of room.joinedPeers()) peer.notify('callEndingSoon', this.#notice());
      });
    }
    this.#schedule(durationMs, () => {
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
