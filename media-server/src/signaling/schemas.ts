import type { JsonObject, SignalingMethod, SignalingRequests } from '@telemed/sdk/protocol';
import { z } from 'zod';

const id = z.string().min(1).max(64);
// mediasoup validates the inside of its parameter objects; the edge checks they are objects.
const jsonObject = z.custom<JsonObject>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object');
const empty = z.object({}).strict() as unknown as z.ZodType<Record<string, never>>;

/** One schema per signaling method, checked against the protocol types in @telemed/sdk. */
export const requestSchemas: { [M in SignalingMethod]: z.ZodType<SignalingRequests[M]['request']> } = {
  createTransport: z.object({ direction: z.enum(['send', 'recv']), sctpCapabilities: jsonObject.optional() }).strict(),
  connectTransport: z.object({ transportId: id, dtlsParameters: jsonObject }).strict(),
  join: z.object({ rtpCapabilities: jsonObject, sctpCapabilities: jsonObject.optional(), autoSubscribe: z.boolean().optional() }).strict(),
  produce: z
    .object({
      transportId: id,
      kind: z.enum(['audio', 'video']),
      source: z.enum(['camera', 'microphone', 'screenShare', 'screenShareAudio']),
      rtpParameters: jsonObject,
      paused: z.boolean().optional(),
    })
    .strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  subscribe: z.object({ producerId: id }).strict(),
  unsubscribe: z.object({ producerId: id }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  pauseConsumer: z.object({ consumerId: id }).strict(),
  setConsumerPreferredLayers: z
    .object({
      consumerId: id,
      spatialLayer: z.number().int().min(0).max(3),
      temporalLayer: z.number().int().min(0).max(3).optional(),
    })
    .strict(),
  restartIce: z.object({ transportId: id }).strict(),
  produceData: z
    .object({
      transportId: id,
      sctpStreamParameters: jsonObject,
      label: z.string().max(64),
      protocol: z.string().max(64).optional(),
    })
    .strict(),
  muteParticipantTrack: z.object({ participantId: id, producerId: id }).strict(),
  removeParticipant: z.object({ participantId: id }).strict(),
  getStats: empty,
  reportConnectionQuality: z.object({ quality: z.enum(['excellent', 'good', 'poor', 'lost']) }).strict(),
  leave: empty,
  createPlainTransport: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  connectPlainTransport: z
    .object({
      transportId: id,
      ip: z.union([z.ipv4(), z.ipv6()]),
      port: z.number().int().min(1).max(65535),
      srtpParameters: z.object({ cryptoSuite: z.literal('AEAD_AES_256_GCM'), keyBase64: z.string().min(1).max(128) }).strict(),
    })
    .strict(),
};

/** The envelope every client message must have. */
export const requestEnvelope = z
  .object({
    type: z.literal('request'),
    id: z.number().int().nonnegative(),
    method: z.string().max(64),
    data: z.unknown().optional(),
  })
  .strict();

export function isSignalingMethod(method: string): method is SignalingMethod {
  return Object.hasOwn(requestSchemas, method);
}
