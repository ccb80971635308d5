import { CallDurationLimit } from './CallDurationLimit.js';
import { SafeEmitter } from './SafeEmitter.js';
import type { Logger } from './logger.js';
import { mediaCodecs } from './codecs.js';
import { MediaServerError } from './errors.js';
import { Room } from './Room.js';
import type { RoomRouter } from './RoomRouters.js';
import type { PooledWorker, WorkerPool } from './WorkerPool.js';

export interface RoomManagerOptions {
  pool: WorkerPool;
  maxParticipantsPerRoom: number;
  /** How long an empty room stays open for a participant to come back, in ms. */
  emptyRoomGraceMs: number;
  /** A room closes this long after it was created, ms (MAX_CALL_DURATION). */
  maxRoomDurationMs: number;
  /** Seconds before that at which the participants are told (CALL_END_WARNINGS). */
  callEndWarningsSec?: readonly number[];
  /** Consumers a room serves from one worker before new participants go to a router on another. */
  consumerBudgetPerWorker?: number;
  logger: Logger;
}

export type RoomManagerEvents = {
  roomCreated: [Room];
  roomClosed: [Room];
  /** drain() was called: no new rooms from now on. */
  draining: [];
};

export interface RoomEntry {
  room: Room;
  worker: PooledWorker;
  emptyTimer?: NodeJS.Timeout;
}

/** Creates rooms on the least-loaded worker and closes them when they stay empty. */
export class RoomManager extends SafeEmitter<RoomManagerEvents> {
  readonly #options: RoomManagerOptions;
  readonly #rooms = new Map<string, RoomEntry>();
  readonly #creating = new Map<string, Promise<RoomEntry>>();
  #draining = false;

  constructor(options: RoomManagerOptions) {
    super((event, error) => options.logger.error({ err: error, event }, 'a room manager listener threw'));
    this.#options = options;
    options.pool.on('workerDied', (worker) => {
      for (const entry of [...this.#rooms.values()]) if (entry.worker === worker) entry.room.close('worker_died');
    });
  }

  get rooms(): ReadonlyMap<string, RoomEntry> {
    return this.#rooms;
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId)?.room;
  }

  /**
   * The room with this id, created on the least-loaded worker when it does not exist yet. A new
   * room's maximum duration counts from `startedAt` (ms since 1970, the call's start) when given.
   */
  async getOrCreate(roomId: string, options: { startedAt?: number } = {}): Promise<{ room: Room; worker: PooledWorker }> {
    const existing = this.#rooms.get(roomId);
    if (existing && !existing.room.closed) return existing;
    if (this.#draining && !this.#creating.has(roomId)) throw new MediaServerError('DRAINING', 'the media server is stopping: it takes no new rooms');
    // Two participants joining at once must land in one room: share the pending creation.
    let pending = this.#creating.get(roomId);
    if (!pending) {
      pending = this.#create(roomId, options.startedAt).finally(() => this.#creating.delete(roomId));
      this.#creating.set(roomId, pending);
    }
    return pending;
  }

  /**
   * Whether a call that started at `startedAt` (ms since 1970) is past the maximum duration with no
   * open room here: a node that gets the call's participants after the end must not open it again.
   */
  isOver(roomId: string, startedAt: number): boolean {
    const open = this.#rooms.get(roomId);
    return (!open || open.room.closed) && startedAt + this.#options.maxRoomDurationMs <= Date.now();
  }

  async #create(roomId: string, startedAt: number | undefined): Promise<RoomEntry> {
    const { pool, logger, maxParticipantsPerRoom } = this.#options;
    const worker = pool.leastLoaded();
    worker.routers++;
    let router;
    try {
      router = await worker.worker.createRouter({ mediaCodecs, appData: { roomId } });
    } catch (error) {
      worker.routers--;
      throw error;
    }
    let room: Room;
    try {
      room = await Room.create({
        id: roomId,
        router: { workerIndex: worker.index, router, webRtcServer: worker.webRtcServer },
        maxParticipants: maxParticipantsPerRoom,
        ...(this.#options.consumerBudgetPerWorker === undefined ? {} : { consumerBudget: this.#options.consumerBudgetPerWorker }),
        allocateRouter: (used) => this.#allocateRouter(roomId, used),
        logger: logger.child({ component: 'Room', roomId }),
      });
    } catch (error) {
      router.close();
      worker.routers--;
      throw error;
    }
    // It ends with the room (it listens for the room's close), and gives the room its endsAt.
    new CallDurationLimit({
      room,
      durationMs: this.#options.maxRoomDurationMs,
      ...(startedAt === undefined ? {} : { startedAt }),
      warningsSec: this.#options.callEndWarningsSec ?? [],
      logger,
    });
    const entry: RoomEntry = { room, worker };
    this.#rooms.set(roomId, entry);
    room.on('peerLeft', () => this.#scheduleCloseIfEmpty(entry));
    room.on('close', (reason) => {
      worker.routers--;
      clearTimeout(entry.emptyTimer);
      if (this.#rooms.get(roomId) === entry) this.#rooms.delete(roomId);
      logger.info({ roomId, reason }, 'room closed');
      this.safeEmit('roomClosed', room);
    });
    logger.info({ roomId, workerIndex: worker.index }, 'room created');
    this.safeEmit('roomCreated', room);
    return entry;
  }

  /** Another router for a room that outgrew a worker: on the least-loaded worker it does not use yet. */
  async #allocateRouter(roomId: string, used: ReadonlySet<number>): Promise<RoomRouter | undefined> {
    const candidates = this.#options.pool.workers.filter((w) => !w.worker.closed && !used.has(w.index));
    if (candidates.length === 0) return undefined;
    const worker = candidates.reduce((best, w) => (w.routers < best.routers ? w : best));
    worker.routers++;
    try {
      const router = await worker.worker.createRouter({ mediaCodecs, appData: { roomId } });
      router.observer.once('close', () => worker.routers--);
      return { workerIndex: worker.index, router, webRtcServer: worker.webRtcServer };
    } catch (error) {
      worker.routers--;
      this.#options.logger.warn({ err: error, roomId, workerIndex: worker.index }, 'could not add a router for a growing room');
      return undefined;
    }
  }

  /** Call after a peer joins so a pending empty-room close is cancelled. */
  touch(roomId: string): void {
    const entry = this.#rooms.get(roomId);
    if (entry?.emptyTimer) {
      clearTimeout(entry.emptyTimer);
      delete entry.emptyTimer;
    }
  }

  #scheduleCloseIfEmpty(entry: RoomEntry): void {
    if (entry.room.peers.size > 0 || entry.room.closed) return;
    clearTimeout(entry.emptyTimer);
    entry.emptyTimer = setTimeout(() => {
      if (entry.room.peers.size === 0) entry.room.close('empty');
    }, this.#options.emptyRoomGraceMs);
    entry.emptyTimer.unref();
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stops taking new rooms; the running ones go on (and take joins and resumes) until they close.
   * Resolves once no room is left.
   */
  async drain(): Promise<void> {
    if (!this.#draining) {
      this.#draining = true;
      this.safeEmit('draining');
    }
    while (this.#rooms.size > 0 || this.#creating.size > 0) {
      await Promise.allSettled(this.#creating.values());
      const open = [...this.#rooms.values()];
      if (open.length > 0)
        await Promise.race(open.map(({ room }) => new Promise((resolve) => (room.closed ? resolve(undefined) : room.once('close', resolve)))));
    }
  }

  close(): void {
    for (const { room } of [...this.#rooms.values()]) room.close('shutdown');
  }
}
