import type { MediaNodeInfo } from '@telemed/sdk/protocol';

/**
 * Consumers a room just placed (within its reservation, `ROOM_RESERVATION_MS`) is assumed to bring
 * (a 1:1 video call: two participants, each consuming the other's audio and video), so rooms
 * placed close together spread instead of all landing on the node that looked emptiest.
 */
export const PENDING_ROOM_CONSUMERS = 4;

/** A node's load for placement, 0 (idle) .. 1 (full): the larger of its consumer share and its workers' mean CPU. */
export function nodeLoad(node: MediaNodeInfo, pendingRooms = 0): number {
  const consumers = (node.load.consumers + pendingRooms * PENDING_ROOM_CONSUMERS) / node.capacity.consumers;
  const cpu = node.load.workerCpu.length === 0 ? 0 : node.load.workerCpu.reduce((a, b) => a + b, 0) / node.load.workerCpu.length;
  return Math.max(consumers, cpu);
}

/**
 * The placement selector: among nodes that are not draining and below their consumer capacity,
 * the least loaded by {@link nodeLoad}; ties go to the node with fewer rooms, then the smaller id
 * (deterministic). `pendingRooms` counts rooms this API instance placed on a node within their
 * reservation. Undefined when no node can take a room.
 */
export function selectNode(nodes: readonly MediaNodeInfo[], pendingRooms: (node: MediaNodeInfo) => number = () => 0): MediaNodeInfo | undefined {
  let best: { node: MediaNodeInfo; load: number; rooms: number } | undefined;
  for (const node of nodes) {
    const pending = pendingRooms(node);
    if (node.draining || node.load.consumers + pending * PENDING_ROOM_CONSUMERS >= node.capacity.consumers) continue;
    const load = nodeLoad(node, pending);
    const rooms = node.load.rooms + pending;
    if (!best || load < best.load || (load === best.load && (rooms < best.rooms || (rooms === best.rooms && node.id < best.node.id))))
      best = { node, load, rooms };
  }
  return best?.node;
}

/** The least loaded of `nodes` by {@link nodeLoad}, full or not (ties: the smaller id); undefined for none. */
export function leastLoaded(nodes: readonly MediaNodeInfo[], pendingRooms: (node: MediaNodeInfo) => number = () => 0): MediaNodeInfo | undefined {
  let best: { node: MediaNodeInfo; load: number } | undefined;
  for (const node of nodes) {
    const load = nodeLoad(node, pendingRooms(node));
    if (!best || load < best.load || (load === best.load && node.id < best.node.id)) best = { node, load };
  }
  return best?.node;
}
