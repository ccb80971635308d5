import { createClient } from 'redis';
import { MEDIA_NODE_HEARTBEAT_MS, MEDIA_NODE_TTL_MS, mediaNodeKeys } from '@telemed/sdk/protocol';
import type { Logger } from '../logger.js';
import type { Room } from '../Room.js';
import type { RoomManager } from '../RoomManager.js';
import { linkEnvelopeSchema, type LinkMessage } from './link-messages.js';
import { RoomLink } from './RoomLink.js';

export interface NodeLinksOptions {
  redisUrl: string;
  keyPrefix: string;
  nodeId: string;
  rooms: RoomManager;
  /** Where pipe transports listen (MEDIA_RTC_LISTEN_IP) and the address other nodes reach (ANNOUNCED_IP). */
  listenIp: string;
  announcedIp?: string | undefined;
  logger: Logger;
  /** How often linked nodes are checked for a live registry record, ms. */
  checkMs?: number;
  /** Lifetime of a room's node set in Redis, s (refreshed when a node opens its part). */
  roomTtlSeconds?: number;
}

/**
 * Rooms spanning media nodes. When this node opens a room, it joins the room's node set in Redis
 * and offers a {@link RoomLink} to every other live node of that set; the offers, answers and
 * track announcements travel over Redis pub/sub (one channel per node). When a linked node's
 * registry record expires (it died) the link closes and its participants leave the room here,
 * as they do when the other node's part closes cleanly (`unlink`).
 *
 * Redis may restart empty under running rooms: when it is back, the registry puts this node's open
 * rooms back with its first record (NodeRegistry), and links judge no linked node dead until every
 * node has had a heartbeat's time to register again.
 */
export class NodeLinks {
  readonly #options: NodeLinksOptions;
  readonly #pub: ReturnType<typeof createClient>;
  readonly #sub: ReturnType<typeof createClient>;
  /** `${roomId}\n${nodeId}` → the link of a room to its part on that node. */
  readonly #links = new Map<string, RoomLink>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** When the publishing client last became ready (connected, or reconnected after an outage). */
  #readyAt = 0;

  constructor(options: NodeLinksOptions) {
    this.#options = options;
    this.#pub = createClient({ url: options.redisUrl });
    this.#sub = this.#pub.duplicate();
    for (const client of [this.#pub, this.#sub]) client.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'node links: redis error'));
    options.rooms.on(
      'roomCreated',
      (room) =>
        void this.#open(room).catch((err: Error) =>
          options.logger.warn({ err: err.message, roomId: room.id }, "node links: could not join the room's node set"),
        ),
    );
    this.#pub.on('ready', () => (this.#readyAt = Date.now()));
  }

  async start(): Promise<void> {
    const { keyPrefix, nodeId, checkMs = 1000 } = this.#options;
    // Like the registry: wait for Redis a little, never for long (the clients keep reconnecting).
    const ready = Promise.all([this.#pub.connect(), this.#sub.connect()])
      .then(() => this.#sub.subscribe(mediaNodeKeys.links(keyPrefix, nodeId), (raw) => this.#receive(raw)))
      .catch((err: Error) => this.#options.logger.warn({ err: err.message }, 'node links: redis unavailable (rooms do not span nodes until it is back)'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    this.#timer = setInterval(() => void this.#dropDeadNodes(), checkMs);
    this.#timer.unref();
  }

  /** The links of a room, for stats. */
  linksOf(roomId: string): RoomLink[] {
    return [...this.#links.entries()].filter(([key]) => key.startsWith(`${roomId}\n`)).map(([, link]) => link);
  }

  async #open(room: Room): Promise<void> {
    const { keyPrefix, nodeId, roomTtlSeconds = 86_400 } = this.#options;
    const setKey = mediaNodeKeys.roomNodes(keyPrefix, room.id);
    room.once('close', () => {
      for (const link of this.linksOf(room.id)) {
        link.close('left', true);
        this.#links.delete(this.#key(room.id, link.remoteNodeId));
      }
      if (this.#pub.isReady) this.#pub.sRem(setKey, nodeId).catch(() => undefined);
    });
    if (!this.#pub.isReady) return;
    const [, , members] = (await this.#pub.multi().sAdd(setKey, nodeId).expire(setKey, roomTtlSeconds).sMembers(setKey).exec()) as unknown as [
      number,
      number,
      string[],
    ];
    const others = members.filter((id) => id !== nodeId);
    if (others.length === 0 || room.closed) return;
    const alive = await this.#pub.mGet(others.map((id) => mediaNodeKeys.node(keyPrefix, id)));
    others.forEach((other, i) => {
      if (alive[i] === null || this.#links.has(this.#key(room.id, other))) return;
      this.#link(room, other).offer();
    });
  }

  #key(roomId: string, nodeId: string): string {
    return `${roomId}\n${nodeId}`;
  }

  #link(room: Room, remoteNodeId: string): RoomLink {
    const { keyPrefix, nodeId, listenIp, announcedIp, logger } = this.#options;
    const channel = mediaNodeKeys.links(keyPrefix, remoteNodeId);
    const link = new RoomLink({
      room,
      remoteNodeId,
      listenIp,
      announcedIp,
      send: (message: LinkMessage) => {
        if (!this.#pub.isReady) return;
        this.#pub
          .publish(channel, JSON.stringify({ room: room.id, from: nodeId, message }))
          .catch((err: Error) => logger.warn({ err: err.message }, 'node links: publish failed'));
      },
      logger: logger.child({ roomId: room.id, component: 'RoomLink' }),
    });
    this.#links.set(this.#key(room.id, remoteNodeId), link);
    return link;
  }

  #receive(raw: string): void {
    const { logger, nodeId, rooms } = this.#options;
    let parsed;
    try {
      parsed = linkEnvelopeSchema.safeParse(JSON.parse(raw));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      logger.warn('node links: dropped a malformed message');
      return;
    }
    const { room: roomId, from, message } = parsed.data;
    if (from === nodeId) return;
    const key = this.#key(roomId, from);
    let link = this.#links.get(key);
    if (message.type === 'offer') {
      const room = rooms.get(roomId);
      if (!room || room.closed) {
        // Our part of the room is gone (or never opened): the other node stops waiting.
        void this.#pub
          .publish(mediaNodeKeys.links(this.#options.keyPrefix, from), JSON.stringify({ room: roomId, from: nodeId, message: { type: 'unlink' } }))
          .catch(() => undefined);
        return;
      }
      // Both sides offered at once: the smaller node id's offer wins, the other side answers it.
      if (link?.state === 'offered' && nodeId < from) return;
      if (link && link.state !== 'closed') link.close('left', false);
      link = this.#link(room, from);
    }
    if (!link) return;
    link.handle(message);
    if (message.type === 'unlink') this.#links.delete(key);
  }

  /** Links to nodes whose registry record expired (killed, or cut off) close: their participants leave here. */
  async #dropDeadNodes(): Promise<void> {
    if (!this.#pub.isReady || this.#links.size === 0) return;
    // Just reconnected: Redis may have restarted empty, and the other nodes re-register within a heartbeat.
    if (Date.now() - this.#readyAt < MEDIA_NODE_TTL_MS + MEDIA_NODE_HEARTBEAT_MS) return;
    const nodes = [...new Set([...this.#links.values()].map((l) => l.remoteNodeId))];
    let records: (string | null)[];
    try {
      records = await this.#pub.mGet(nodes.map((id) => mediaNodeKeys.node(this.#options.keyPrefix, id)));
    } catch {
      return; // Redis unreachable: no news is not bad news, the links stay.
    }
    const dead = new Set(nodes.filter((_, i) => records[i] === null));
    for (const [key, link] of this.#links) {
      if (!dead.has(link.remoteNodeId)) continue;
      this.#options.logger.warn(
        { node: link.remoteNodeId, key: key.replace('\n', ' @ ') },
        'node links: the other node is gone, its participants leave the room here',
      );
      link.close('disconnected', false);
      this.#links.delete(key);
    }
  }

  /** Tells linked nodes this node's parts are gone, and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const link of this.#links.values()) link.close('left', true);
    this.#links.clear();
    if (this.#pub.isReady) await this.#pub.ping().catch(() => undefined);
    for (const client of [this.#pub, this.#sub]) if (client.isOpen) client.destroy();
  }
}
