// The media node registry in Redis, shared by the media servers (which write it) and the API
// (which reads it to place rooms). Servers only: browsers never see these records.

/** A media node's load, as it heartbeats it. */
export interface MediaNodeLoad {
  rooms: number;
  /** Signaling sessions (participants, including those waiting to resume). */
  peers: number;
  consumers: number;
  /** CPU of each mediasoup worker over the last heartbeat period, 0..1 (one core = 1). */
  workerCpu: number[];
}

/** One media node's registry record: `<prefix>:media:node:<id>`, JSON, expiring after `ttlMs`. */
export interface MediaNodeInfo {
  id: string;
  /** Signaling URL browsers use (`wss://…/rtc`). */
  url: string;
  /** HTTP base the API and other nodes reach (service endpoints). */
  internalUrl: string;
  /** The address in this node's ICE candidates (ANNOUNCED_IP, else the listen address). */
  announcedAddress: string;
  /** Free-form location label (MEDIA_REGION); shown to operators, not used by placement yet. */
  region: string;
  /** Consumers the node takes before placement skips it (MEDIA_NODE_CAPACITY). */
  capacity: { consumers: number };
  /** Draining (SIGTERM or the admin command): running rooms go on, no new room is placed here. */
  draining: boolean;
  startedAt: number;
  /** When this record was written (the node's clock, ms). */
  heartbeatAt: number;
  /** Incremented per heartbeat: a reader tells a fresh record from the one it saw before. */
  seq: number;
  load: MediaNodeLoad;
}

/** Heartbeat period and record lifetime: a node whose heartbeats stop is gone within the TTL. */
export const MEDIA_NODE_HEARTBEAT_MS = 1000;
export const MEDIA_NODE_TTL_MS = 2000;

/** Redis keys of the registry under a deployment's key prefix (REDIS_KEY_PREFIX, default `telemed`). */
export const mediaNodeKeys = {
  /** SET of node ids that registered (an id whose record expired is stale: readers remove it). */
  nodes: (prefix: string): string => `${prefix}:media:nodes`,
  node: (prefix: string, id: string): string => `${prefix}:media:node:${id}`,
  /** Room id → id of the node hosting it (written by the API on placement, removed by the node when the room closes). */
  room: (prefix: string, roomId: string): string => `${prefix}:media:room:${roomId}`,
  /**
   * SET of the nodes a room spans (it outgrew its first node): each node adds itself when it opens
   * its part of the room and removes itself when that closes; the API adds the node it sends a
   * room's overflow to. Members whose record expired are dead and ignored.
   */
  roomNodes: (prefix: string, roomId: string): string => `${prefix}:media:room-nodes:${roomId}`,
  /** Pub/sub channel on which a node receives the pipe-link messages of other nodes (cluster/link-messages.ts). */
  links: (prefix: string, nodeId: string): string => `${prefix}:media:links:${nodeId}`,
} as const;
