import { mediaNodeKeys, type MediaNodeInfo } from '@telemed/sdk/protocol';
import { ApiError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import { leastLoaded, PENDING_ROOM_CONSUMERS, selectNode } from './node-selector.js';

/** Where a room's participants connect. */
export interface RoomPlacement {
  /** The media node's signaling URL (`RoomAccess.url`). */
  url: string;
  /** The node's registry id; null for the single node of MEDIA_PUBLIC_URL. */
  nodeId: string | null;
  /** The node the room was on before, when it was gone and the room was placed again (failover). */
  movedFrom?: string;
}

export interface MediaPlacementOptions {
  /** The API's fail-fast Redis client; without one every room goes to `fallbackUrl`. */
  redis?: RedisClient | undefined;
  keyPrefix: string;
  /** MEDIA_PUBLIC_URL: the one node without a registry, and the answer while no node is registered. */
  fallbackUrl: string;
  logger: Logger;
  /** How long a room's placement is kept, seconds (refreshed on every access). */
  roomTtlSeconds?: number;
  /** How long a room just placed counts against its node, ms (default {@link ROOM_RESERVATION_MS}). */
  reservationMs?: number;
}

/**
 * How long a room just placed counts against its node: long enough for its participants to connect
 * and for their consumers to show in the node's heartbeats (one per MEDIA_NODE_HEARTBEAT_MS), so
 * that a burst of placements spreads. Measured on this instance's clock from the placement, not
 * ended by the node's next heartbeat, which may come a millisecond after the placement and before
 * the room exists there. A room that opened meanwhile is counted twice for the rest of the window:
 * placement errs towards spreading.
 */
export const ROOM_RESERVATION_MS = 5000;

/**
 * Sets the room → node mapping unless another API instance placed the room meanwhile on a node
 * other than the one we saw gone (ARGV[2]); answers the node the room is on afterwards.
 */
const CLAIM_ROOM = `local cur = redis.call('get', KEYS[1])
if cur == false or cur == ARGV[2] then redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[3]) return ARGV[1] end
redis.call('expire', KEYS[1], ARGV[3])
return cur`;

/** `ws://host:port` of a signaling URL (ws:, wss:, or http(s): as written by an operator). */
function wsOrigin(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol.replace(/^http/, 'ws')}//${parsed.host}`;
}

/** Placements remembered for Redis outages: the last known node of a room is answered again. */
const MAX_REMEMBERED = 10_000;

/**
 * Places rooms on media nodes through the Redis registry the nodes heartbeat into (see
 * `media-nodes.ts` in the protocol): sticky (a room's later participants go where it is, while its
 * node is alive, draining or not), else the node {@link selectNode} picks, claimed atomically so
 * that two API instances agree. A room whose node is gone (no heartbeat within the TTL) is placed
 * again: that is the failover the SDK's access refresher follows.
 *
 * Without Redis, or while no node is registered, every room goes to MEDIA_PUBLIC_URL (one node, as
 * before the registry). While Redis is down, a room gets the last placement this instance knows
 * for it, else MEDIA_PUBLIC_URL.
 */
export class MediaPlacement {
  readonly #options: MediaPlacementOptions;
  /** Rooms this instance placed per node within the reservation window: node id → room id → placed at (ms). */
  readonly #reserved = new Map<string, Map<string, number>>();
  readonly #remembered = new Map<string, RoomPlacement>();
  /** Origins of every node seen, for the apps' Content-Security-Policy. */
  readonly #origins = new Set<string>();

  #timer: NodeJS.Timeout | undefined;

  constructor(options: MediaPlacementOptions) {
    this.#options = options;
    this.#origins.add(wsOrigin(options.fallbackUrl));
  }

  /** Reads the registry now and then, so pages served before any placement may reach every node (CSP). */
  start(intervalMs = 2000): void {
    if (!this.#options.redis || this.#timer) return;
    const refresh = (): void => void this.nodes().catch(() => undefined);
    refresh();
    this.#timer = setInterval(refresh, intervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Origins (ws:// or wss://) of the media nodes seen so far, MEDIA_PUBLIC_URL's first. */
  get mediaOrigins(): readonly string[] {
    return [...this.#origins];
  }

  /** The registered nodes whose heartbeat is fresh (stale ids are dropped from the set on the way). */
  async nodes(): Promise<MediaNodeInfo[]> {
    const { redis, keyPrefix } = this.#options;
    if (!redis) return [];
    const ids = await redis.sMembers(mediaNodeKeys.nodes(keyPrefix));
    if (ids.length === 0) return [];
    const records = await redis.mGet(ids.map((id) => mediaNodeKeys.node(keyPrefix, id)));
    const nodes: MediaNodeInfo[] = [];
    const stale: string[] = [];
    records.forEach((record, i) => {
      if (record === null) stale.push(ids[i]!);
      else nodes.push(JSON.parse(record) as MediaNodeInfo);
    });
    if (stale.length > 0) await redis.sRem(mediaNodeKeys.nodes(keyPrefix), stale).catch(() => undefined);
    for (const node of nodes) this.#origins.add(wsOrigin(node.url));
    return nodes;
  }

  /**
   * The live registered nodes a room is open on now (its host first, then the nodes it spans),
   * without placing it; null when no node is registered (every room is on MEDIA_PUBLIC_URL's node).
   */
  async roomNodes(roomId: string): Promise<MediaNodeInfo[] | null> {
    const { redis, keyPrefix } = this.#options;
    if (!redis) return null;
    const [nodes, host, span] = await Promise.all([
      this.nodes(),
      redis.get(mediaNodeKeys.room(keyPrefix, roomId)),
      redis.sMembers(mediaNodeKeys.roomNodes(keyPrefix, roomId)),
    ]);
    if (nodes.length === 0) return null;
    const ids = new Set([...(host === null ? [] : [host]), ...span]);
    return nodes.filter((n) => ids.has(n.id)).sort((x, y) => Number(y.id === host) - Number(x.id === host));
  }

  /** Where `roomId` lives now, placing (or re-placing) it when needed. */
  async place(roomId: string): Promise<RoomPlacement> {
    const { redis, fallbackUrl, logger } = this.#options;
    if (!redis) return { url: fallbackUrl, nodeId: null };
    try {
      const placement = await this.#place(redis, roomId);
      this.#remember(roomId, placement);
      return placement;
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const known = this.#remembered.get(roomId);
      logger.warn(
        { err: (error as Error).message, roomId, node: known?.nodeId ?? null },
        'media placement: redis unavailable, answering the last known placement',
      );
      return known ? { url: known.url, nodeId: known.nodeId } : { url: fallbackUrl, nodeId: null };
    }
  }

  async #place(redis: RedisClient, roomId: string): Promise<RoomPlacement> {
    const { keyPrefix, roomTtlSeconds = 86_400 } = this.#options;
    const key = mediaNodeKeys.room(keyPrefix, roomId);
    const spanKey = mediaNodeKeys.roomNodes(keyPrefix, roomId);
    const [nodes, current, span] = await Promise.all([this.nodes(), redis.get(key), redis.sMembers(spanKey)]);
    if (nodes.length === 0) return { url: this.#options.fallbackUrl, nodeId: null };
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const host = current === null ? undefined : byId.get(current);
    // The live nodes the room spans besides its host.
    const others = [...new Set(span)]
      .filter((id) => id !== current)
      .map((id) => byId.get(id))
      .filter((n): n is MediaNodeInfo => n !== undefined);
    if (host) {
      await redis.expire(key, roomTtlSeconds).catch(() => undefined);
      if (!this.#full(host, roomId)) return { url: host.url, nodeId: host.id };
      return this.#spill(redis, roomId, spanKey, host, others, nodes);
    }
    // The host is gone: a live node the room already spans takes it over, else the selector's pick.
    const chosen = leastLoaded(others, (node) => this.#pendingOn(node)) ?? selectNode(nodes, (node) => this.#pendingOn(node));
    if (!chosen) throw new ApiError('SERVICE_UNAVAILABLE', 'no media node can take a new call now (all are draining or full); try again shortly');
    const winner = String(await redis.eval(CLAIM_ROOM, { keys: [key], arguments: [chosen.id, current ?? '', String(roomTtlSeconds)] }));
    const node = byId.get(winner) ?? chosen;
    if (node === chosen) this.#addPending(chosen, roomId);
    return { url: node.url, nodeId: node.id, ...(current !== null && current !== node.id ? { movedFrom: current } : {}) };
  }

  /**
   * A participant of a room whose host is full: the least loaded node the room already spans that
   * has room, else a new node for the room (recorded in its node set; the media nodes link their
   * parts with pipe transports), else the least loaded of the room's nodes — a running room never
   * turns a participant away for capacity.
   */
  async #spill(
    redis: RedisClient,
    roomId: string,
    spanKey: string,
    host: MediaNodeInfo,
    others: MediaNodeInfo[],
    nodes: MediaNodeInfo[],
  ): Promise<RoomPlacement> {
    // The room's own reservation is its participants arriving, not another room's load.
    const pending = (node: MediaNodeInfo): number => this.#pendingOn(node, roomId);
    const roomNodes = new Set([host.id, ...others.map((n) => n.id)]);
    const spanned = selectNode(others, pending);
    if (spanned) return this.#placed(spanned, roomId);
    const added = selectNode(
      nodes.filter((n) => !roomNodes.has(n.id)),
      pending,
    );
    if (added) {
      await redis
        .multi()
        .sAdd(spanKey, [host.id, added.id])
        .expire(spanKey, this.#options.roomTtlSeconds ?? 86_400)
        .exec();
      return this.#placed(added, roomId);
    }
    return this.#placed(leastLoaded([host, ...others], pending)!, roomId);
  }

  #placed(node: MediaNodeInfo, roomId: string): RoomPlacement {
    this.#addPending(node, roomId);
    return { url: node.url, nodeId: node.id };
  }

  /**
   * No room for one more participant of `roomId` on the node: its consumers, with those of the
   * other rooms placed there within the reservation window. The room's own pending estimate already
   * counts its next participants (a 1:1 call's two), so the second participant of a room just
   * placed is not sent elsewhere for the room's own reservation.
   */
  #full(node: MediaNodeInfo, roomId: string): boolean {
    return node.load.consumers + this.#pendingOn(node, roomId) * PENDING_ROOM_CONSUMERS >= node.capacity.consumers;
  }

  /** Rooms placed on the node within the reservation window, `except` one. */
  #pendingOn(node: MediaNodeInfo, except?: string): number {
    const since = this.#reservationStart();
    let count = 0;
    for (const [roomId, placedAt] of this.#reserved.get(node.id) ?? []) if (placedAt > since && roomId !== except) count++;
    return count;
  }

  #addPending(node: MediaNodeInfo, roomId: string): void {
    const since = this.#reservationStart();
    for (const [nodeId, rooms] of this.#reserved) {
      for (const [id, placedAt] of rooms) if (placedAt <= since) rooms.delete(id);
      if (rooms.size === 0) this.#reserved.delete(nodeId);
    }
    const rooms = this.#reserved.get(node.id) ?? new Map<string, number>();
    rooms.set(roomId, Date.now());
    this.#reserved.set(node.id, rooms);
  }

  #reservationStart(): number {
    return Date.now() - (this.#options.reservationMs ?? ROOM_RESERVATION_MS);
  }

  #remember(roomId: string, placement: RoomPlacement): void {
    this.#remembered.delete(roomId);
    this.#remembered.set(roomId, { url: placement.url, nodeId: placement.nodeId });
    if (this.#remembered.size > MAX_REMEMBERED) this.#remembered.delete(this.#remembered.keys().next().value!);
  }
}
