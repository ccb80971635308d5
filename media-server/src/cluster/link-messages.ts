// The messages media nodes exchange over Redis pub/sub (channel `mediaNodeKeys.links(prefix, to)`)
// to link their parts of a room spanning nodes with PipeTransports. Every message names the room and
// the sending node; a malformed one is logged and dropped.
import { z } from 'zod';

const id = z.string().min(1).max(128);
const jsonObject = z.record(z.string(), z.unknown());
const tuple = z.object({ ip: z.string().min(1), port: z.number().int().min(1).max(65535) });
const peer = z.object({ id, identity: z.string().max(256), name: z.string().max(256) });

export const linkMessageSchema = z.discriminatedUnion('type', [
  /** The sender opened its part of the room and made a PipeTransport: its tuple and SRTP keys. */
  z.object({ type: z.literal('offer'), tuple, srtpParameters: jsonObject }),
  /** The receiver of an offer answers with its own PipeTransport; both sides are connected after it. */
  z.object({ type: z.literal('answer'), tuple, srtpParameters: jsonObject }),
  /** A participant joined on the sender's node. */
  z.object({ type: z.literal('peer'), peer }),
  z.object({ type: z.literal('peerLeft'), peerId: id, reason: z.enum(['left', 'disconnected', 'removed', 'replaced']) }),
  /** A producer of the sender's participant, consumed into the pipe: produce it with the same id. */
  z.object({
    type: z.literal('produce'),
    peer,
    producerId: id,
    kind: z.enum(['audio', 'video']),
    source: z.enum(['camera', 'microphone', 'screenShare', 'screenShareAudio']),
    rtpParameters: jsonObject,
    paused: z.boolean(),
  }),
  z.object({ type: z.literal('produceData'), peer, dataProducerId: id, sctpStreamParameters: jsonObject, label: z.string(), protocol: z.string() }),
  /** A (data) producer piped before closed on the sender's node. */
  z.object({ type: z.literal('closeProducer'), peerId: id, producerId: id }),
  z.object({ type: z.literal('pause'), peerId: id, producerId: id, paused: z.boolean() }),
  /** The sender's part of the room closed (or it had none): tear the link down. */
  z.object({ type: z.literal('unlink') }),
]);

export type LinkMessage = z.infer<typeof linkMessageSchema>;

/** A message on the wire: the room it is about and the node that sent it. */
export const linkEnvelopeSchema = z.object({ room: z.string().min(1).max(256), from: id, message: linkMessageSchema });
export type LinkEnvelope = z.infer<typeof linkEnvelopeSchema>;
