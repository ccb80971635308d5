import { createClient } from 'redis';
import { MEDIA_NODE_HEARTBEAT_MS, MEDIA_NODE_TTL_MS, mediaNodeKeys, type MediaNodeInfo, type MediaNodeLoad } from '@telemed/sdk/protocol';
import type { Logger } from '../logger.js';
import type { RoomManager } from '../RoomManager.js';
import type { WorkerPool } from '../WorkerPool.js';

export interface NodeRegistryOptions {
  redisUrl: string;
  keyPrefix: string;
  /** What the record says about this node (load, draining, seq and heartbeatAt are filled in). */
  node: Pick<MediaNodeInfo, 'id' | 'url' | 'internalUrl' | 'announcedAddress' | 'region' | 'capacity'>;
  rooms: RoomManager;
  pool: WorkerPool;
  /** Signaling sessions open now. */
  sessionCount: () => number;
  logger: Logger;
  heartbeatMs?: number;
  ttlMs?: number;
  /** Lifetime of a room's placement and node set put back after a Redis outage, s (as NodeLinks'). */
  roomTtlSeconds?: number;
}

/** Removes a room's placement only while it still names this node (another node may host it since). */
const DELETE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * This media node's record in the Redis registry (see `media-nodes.ts` in the protocol): written
 * every `heartbeatMs` with its load and a `ttlMs` expiry, so a node that dies or loses Redis is out
 * of placement within the TTL; at once when it starts draining; removed on a clean stop. A room that
 * closes here drops its placement. Redis being down costs nothing but the registry: media goes on,
 * the client reconnects by itself and the next heartbeat registers the node again. Redis may come
 * back empty: the first record written after it returns carries this node's open rooms (their node
 * sets and, unless another node did, their placement) in the same transaction, so the API never sees
 * the node registered while its running rooms are unknown (it would place them anew, or find every
 * node full and refuse a participant of a running call).
 */
export class NodeRegistry {
  readonly #options: NodeRegistryOptions;
  readonly #client: ReturnType<typeof createClient>;
  readonly #startedAt = Date.now();
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #cpu = new Map<number, { pid: number; at: number; cpuMs: number }>();
  #lastError = '';
  #closed = false;
  /** Set when the client (re)connects: the next record written puts the open rooms back too. */
  #announceRooms = false;

  constructor(options: NodeRegistryOptions) {
    this.#options = options;
    // Commands fail at once while Redis is down: a heartbeat is worth nothing late.
    this.#client = createClient({ url: options.redisUrl, disableOfflineQueue: true });
    this.#client.on('error', (err: Error) => this.#warn(err));
    options.rooms.on('draining', () => void this.heartbeat());
    options.rooms.on('roomClosed', (room) => {
      if (!this.#client.isReady) return;
      this.#client
        .eval(DELETE_IF_OURS, { keys: [mediaNodeKeys.room(options.keyPrefix, room.id)], arguments: [options.node.id] })
        .catch((err: Error) => this.#warn(err));
    });
    // Registered again at once when Redis comes back (it may have lost everything).
    this.#client.on('ready', () => {
      this.#announceRooms = true;
      void this.heartbeat();
    });
  }

  /**
   * Heartbeats until close(). Resolves once the first record is written, or after 2 s when Redis
   * does not answer: the node serves anyway and registers as soon as Redis is reachable.
   */
  async start(): Promise<void> {
    // connect() keeps retrying while Redis is down: wait for it a little, never for long.
    const registered = this.#client.connect().then(
      () => this.heartbeat(),
      (err: Error) => this.#warn(err),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([registered, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    this.#timer = setInterval(() => void this.heartbeat(), this.#options.heartbeatMs ?? MEDIA_NODE_HEARTBEAT_MS);
    this.#timer.unref();
    this.#options.logger.info({ nodeId: this.#options.node.id, url: this.#options.node.url }, 'media node registry: heartbeating');
  }

  /** The record this node publishes now. */
  async record(): Promise<MediaNodeInfo> {
    const { rooms, node, sessionCount } = this.#options;
    let consumers = 0;
    for (const { room } of rooms.rooms.values()) consumers += room.consumerCount;
    const load: MediaNodeLoad = { rooms: rooms.rooms.size, peers: sessionCount(), consumers, workerCpu: await this.#workerCpu() };
    return { ...node, draining: rooms.draining, startedAt: this.#startedAt, heartbeatAt: Date.now(), seq: ++this.#seq, load };
  }

  /** Writes the record now (also on drain, so placement stops at once). Never throws. */
  async heartbeat(): Promise<void> {
    if (this.#closed || !this.#client.isReady) return;
    const { keyPrefix, node } = this.#options;
    try {
      const record = await this.record();
      const announced = this.#announceRooms ? this.#openRooms() : undefined;
      const batch = this.#client.multi();
      for (const roomId of announced ?? []) this.#putRoomBack(batch, roomId);
      await batch
        .set(mediaNodeKeys.node(keyPrefix, node.id), JSON.stringify(record), { expiration: { type: 'PX', value: this.#options.ttlMs ?? MEDIA_NODE_TTL_MS } })
        .sAdd(mediaNodeKeys.nodes(keyPrefix), node.id)
        .exec();
      if (announced) {
        this.#announceRooms = false;
        if (announced.length > 0)
          this.#options.logger.info({ rooms: announced.length }, "media node registry: redis is back, this node's rooms announced again");
      }
      if (this.#lastError) {
        this.#options.logger.info({ nodeId: node.id }, 'media node registry reachable again');
        this.#lastError = '';
      }
    } catch (error) {
      this.#warn(error as Error);
    }
  }

  #openRooms(): string[] {
    return [...this.#options.rooms.rooms.values()].filter(({ room }) => !room.closed).map(({ room }) => room.id);
  }

  #putRoomBack(batch: ReturnType<ReturnType<typeof createClient>['multi']>, roomId: string): void {
    const { keyPrefix, node, roomTtlSeconds = 86_400 } = this.#options;
    const setKey = mediaNodeKeys.roomNodes(keyPrefix, roomId);
    batch
      .sAdd(setKey, node.id)
      .expire(setKey, roomTtlSeconds)
      .set(mediaNodeKeys.room(keyPrefix, roomId), node.id, { condition: 'NX', expiration: { type: 'EX', value: roomTtlSeconds } });
  }

  /** Each worker's CPU share since the previous heartbeat (0 on the first, or after a worker was replaced). */
  async #workerCpu(): Promise<number[]> {
    const now = Date.now();
    return Promise.all(
      this.#options.pool.workers.map(async ({ index, worker }) => {
        if (worker.closed) return 0;
        try {
          const usage = await worker.getResourceUsage();
          const cpuMs = usage.ru_utime + usage.ru_stime;
          const last = this.#cpu.get(index);
          this.#cpu.set(index, { pid: worker.pid, at: now, cpuMs });
          if (!last || last.pid !== worker.pid || now <= last.at) return 0;
          return Math.round(Math.min(1, Math.max(0, (cpuMs - last.cpuMs) / (now - last.at))) * 1000) / 1000;
        } catch {
          return 0;
        }
      }),
    );
  }

  #warn(error: Error): void {
    // One line per distinct problem, not one per heartbeat while Redis is down.
    if (error.message === this.#lastError) return;
    this.#lastError = error.message;
    this.#options.logger.warn({ err: error.message }, 'media node registry: redis unavailable (media goes on; the node re-registers when it is back)');
  }

  /** Stops heartbeating and removes the record (a clean stop is out of placement at once). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const { keyPrefix, node } = this.#options;
    if (this.#client.isReady) {
      await this.#client
        .multi()
        .del(mediaNodeKeys.node(keyPrefix, node.id))
        .sRem(mediaNodeKeys.nodes(keyPrefix), node.id)
        .exec()
        .catch(() => undefined);
    }
    if (this.#client.isOpen) this.#client.destroy();
  }
}
