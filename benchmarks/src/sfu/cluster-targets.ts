// The cross-node group's targets: two media nodes of one cluster (common/cluster.ts: the API, a
// throwaway redis-server, one mediasoup worker per node; node A is media-1 on 127.0.0.2, node B
// media-2 on 127.0.0.3). "same-node" puts a room and all its participants on node A. "cross-node"
// opens the room on node A and asks the API's placement where each later participant goes: node A
// has room for one viewer (MEDIA_NODE_CAPACITY), so the API sends the others to node B and adds B
// to the room's node set in Redis; B opens its part of the room, finds A in that set, and the two
// link their routers with PipeTransports negotiated over Redis pub/sub (media-server/src/cluster).
import { BOT_SIGNALING, roomToken, TestSignalingClient, waitFor } from '@telemed/test-kit';
import { startCluster, type BenchCluster, type ClusterNode } from '../common/cluster.js';
import { childPids } from '../common/proc.js';
import { PlatformSession, type SfuSession, type SfuTarget } from './targets.js';

/** Node A's capacity in consumers: the first viewer's audio and video. */
export const HOME_NODE_CAPACITY = 2;

/** A cross-node room's seats so far, and when node A is full (every viewer after the first waits for it). */
interface SpanningRoom {
  seats: number;
  firstPlacement?: Promise<string>;
  homeFull?: Promise<void>;
}

export class ClusterTarget implements SfuTarget {
  readonly name: 'same-node' | 'cross-node';
  readonly #nodes: NodePair;
  readonly #rooms = new Map<string, SpanningRoom>();

  constructor(name: 'same-node' | 'cross-node', nodes: NodePair) {
    this.name = name;
    this.#nodes = nodes;
  }

  async connect(roomId: string, identity: string): Promise<SfuSession> {
    const { a, b } = this.#nodes;
    if (this.name === 'same-node') return this.#nodes.join(a.url, roomId, identity);
    const room = this.#rooms.get(roomId) ?? { seats: 0 };
    this.#rooms.set(roomId, room);
    const seat = room.seats++;
    // The room's first participant (the publisher) opens it on A directly: of two idle nodes, the
    // API would home a new room on either.
    if (seat === 0) return this.#nodes.join(a.url, roomId, identity);
    if (seat === 1) {
      // The room is open on A and not placed yet: the API places it there (A becomes its host).
      const since = Date.now();
      room.firstPlacement = this.#nodes.place(roomId, identity);
      room.homeFull = room.firstPlacement.then(() => this.#nodes.homeFull(since));
      room.homeFull.catch(() => undefined); // awaited by the later seats; a room of one viewer has none
      return this.#nodes.join(await this.#expect(room.firstPlacement, a, identity), roomId, identity);
    }
    await room.homeFull;
    return this.#nodes.join(await this.#expect(this.#nodes.place(roomId, identity), b, identity), roomId, identity);
  }

  async #expect(placement: Promise<string>, node: ClusterNode, identity: string): Promise<string> {
    const url = await placement;
    if (url !== node.url) throw new Error(`the API placed ${identity} at ${url}, not on ${node.id} (${node.url}): the cross-node set-up does not hold`);
    return url;
  }

  workerPids(): number[] {
    return this.#nodes.workerPids();
  }

  controlPids(): number[] {
    return this.#nodes.controlPids();
  }

  /** The cluster is the pair's to stop ({@link NodePair.close}). */
  async close(): Promise<void> {
    this.#rooms.clear();
  }
}

/** The two nodes both targets use, measured together in both: node B idles on the same-node points. */
export class NodePair {
  readonly #cluster: BenchCluster;
  /** An API key of scope room-tokens, for the placement route. */
  readonly #apiKey: string;
  readonly sameNode: ClusterTarget;
  readonly crossNode: ClusterTarget;

  private constructor(cluster: BenchCluster, apiKey: string) {
    this.#cluster = cluster;
    this.#apiKey = apiKey;
    this.sameNode = new ClusterTarget('same-node', this);
    this.crossNode = new ClusterTarget('cross-node', this);
  }

  /** `mediaEnv`: every node's settings (node A's capacity is added to its own). */
  static async start(options: { workerBin: string; mediaEnv: Record<string, string> }): Promise<NodePair> {
    const cluster = await startCluster({
      name: 'sfu',
      workerBin: options.workerBin,
      nodes: 2,
      mediaEnv: options.mediaEnv,
      nodeEnv: { 'media-1': { MEDIA_NODE_CAPACITY: String(HOME_NODE_CAPACITY) } },
    });
    try {
      const admin = await cluster.login('admin@telemed.demo');
      const { secret } = await cluster.api<{ secret: string }>(admin, 'POST', '/api/admin/api-keys', { name: 'bench:sfu', scopes: ['room-tokens'] });
      return new NodePair(cluster, secret);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get a(): ClusterNode {
    return this.#cluster.nodes[0] as ClusterNode;
  }

  get b(): ClusterNode {
    return this.#cluster.nodes[1] as ClusterNode;
  }

  /** A bot's session on the node at `url`, with a loadTest token signed here: the API never issues that grant (as in bench:placement). */
  async join(url: string, roomId: string, identity: string): Promise<SfuSession> {
    const token = roomToken({ secret: this.#cluster.secrets.roomTokenSecret, room: roomId, identity, grants: { loadTest: true } });
    return new PlatformSession(await TestSignalingClient.connect({ url, token, ...BOT_SIGNALING }));
  }

  /** Where the API's placement sends `identity` (POST /api/server/room-tokens, a third-party backend's route): the node's URL. */
  async place(roomId: string, identity: string): Promise<string> {
    return (await this.#cluster.api<{ url: string }>(this.#apiKey, 'POST', '/api/server/room-tokens', { room: roomId, identity })).url;
  }

  /**
   * Waits for a heartbeat of node A written after `since` that shows it at capacity. The previous
   * point's bots have left, so that heartbeat counts this room's first viewer, and every heartbeat
   * after it will as long as the viewer stays: the API sends everyone after it elsewhere.
   */
  async homeFull(since: number): Promise<void> {
    await waitFor(
      `${this.a.id} at capacity in the registry`,
      async () => {
        const record = (await this.#cluster.registry()).find((n) => n.id === this.a.id);
        return record && Date.parse(record.heartbeatAt) > since && record.load.consumers >= record.capacity.consumers ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /** The nodes' mediasoup workers, node A's first (one each). */
  workerPids(): number[] {
    return this.#cluster.nodes.flatMap((n) => (n.child.pid ? childPids(n.child.pid, 'mediasoup-worker') : []));
  }

  controlPids(): number[] {
    return this.#cluster.nodes.flatMap((n) => (n.child.pid ? [n.child.pid] : []));
  }

  close(): Promise<void> {
    return this.#cluster.stop();
  }
}
