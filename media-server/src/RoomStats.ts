import type { types } from 'mediasoup';
import type { ConsumerStatsInfo, ProducerStatsInfo, RoomStatsInfo, ServerTrackStatsSample } from '@telemed/sdk/protocol';
import type { Peer, ProducerAppData } from './Peer.js';
import type { Room } from './Room.js';

/** One sampling of a room: the live view (`info`) and the per-track samples reported to the API. */
export interface RoomSample {
  info: RoomStatsInfo;
  samples: ServerTrackStatsSample[];
}

const sum = <T>(items: readonly T[], pick: (item: T) => number | undefined): number => items.reduce((total, item) => total + (pick(item) ?? 0), 0);

const maxOrNull = (values: (number | undefined)[]): number | null => {
  const defined = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return defined.length ? Math.max(...defined) : null;
};

/** mediasoup reports jitter in RTP timestamp units. */
const jitterMs = (jitter: number | undefined, kind: types.MediaKind): number | undefined =>
  jitter === undefined ? undefined : (jitter / (kind === 'audio' ? 48_000 : 90_000)) * 1000;

async function sampleProducer(peer: Peer, producer: types.Producer<ProducerAppData>, sampledAt: string): Promise<[ProducerStatsInfo, ServerTrackStatsSample]> {
  const stats = await producer.getStats();
  const score = producer.score.reduce((best, s) => Math.max(best, s.score), 0);
  const rids = stats.map((s) => s.rid).filter((rid): rid is string => typeof rid === 'string');
  const active = stats.filter((s) => s.bitrate > 0).map((s) => (s.rid ? rids.sort().indexOf(s.rid) : 0));
  const packets = sum(stats, (s) => s.packetCount);
  const lost = sum(stats, (s) => s.packetsLost);
  const info: ProducerStatsInfo = {
    producerId: producer.id,
    participantId: peer.id,
    kind: producer.kind,
    source: producer.appData.source,
    score,
    bitrate: sum(stats, (s) => s.bitrate),
    packetCount: packets,
    byteCount: sum(stats, (s) => s.byteCount),
    packetsLost: lost,
    packetsRetransmitted: sum(stats, (s) => s.packetsRetransmitted),
    packetsRepaired: sum(stats, (s) => s.packetsRepaired),
    rids,
    activeRids: stats
      .filter((s) => s.bitrate > 0 && typeof s.rid === 'string')
      .map((s) => s.rid as string)
      .sort(),
    paused: producer.paused,
    mimeType: producer.rtpParameters.codecs[0]?.mimeType ?? '',
    scalabilityMode: producer.rtpParameters.encodings?.length === 1 ? (producer.rtpParameters.encodings[0]?.scalabilityMode ?? null) : null,
  };
  const sample: ServerTrackStatsSample = {
    trackId: producer.id,
    producerId: producer.id,
    direction: 'in',
    identity: peer.identity,
    kind: producer.kind,
    source: producer.appData.source,
    sampledAt,
    score,
    bitrateBps: info.bitrate,
    packets,
    packetsLost: lost,
    lossRatio: (maxOrNull(stats.map((s) => s.fractionLost)) ?? 0) / 256,
    jitterMs: maxOrNull(stats.map((s) => jitterMs(s.jitter, producer.kind))),
    rttMs: maxOrNull(stats.map((s) => s.roundTripTime)),
    nackCount: sum(stats, (s) => s.nackCount),
    pliCount: sum(stats, (s) => s.pliCount),
    firCount: sum(stats, (s) => s.firCount),
    spatialLayer: active.length ? Math.max(...active) : null,
    temporalLayer: null,
  };
  return [info, sample];
}

async function sampleConsumer(
  peer: Peer,
  consumer: types.Consumer,
  producerInfo: { identity: string; source: ServerTrackStatsSample['source'] } | undefined,
  sampledAt: string,
): Promise<[ConsumerStatsInfo, ServerTrackStatsSample]> {
  const stats = await consumer.getStats();
  const out = stats.find((s) => s.type === 'outbound-rtp');
  const info: ConsumerStatsInfo = {
    consumerId: consumer.id,
    producerId: consumer.producerId,
    participantId: peer.id,
    kind: consumer.kind,
    score: consumer.score.score,
    producerScore: consumer.score.producerScore,
    bitrate: out?.bitrate ?? 0,
    packetCount: out?.packetCount ?? 0,
    byteCount: out?.byteCount ?? 0,
    packetsLost: out?.packetsLost ?? 0,
    packetsRetransmitted: out?.packetsRetransmitted ?? 0,
    paused: consumer.paused,
    producerPaused: consumer.producerPaused,
    type: consumer.type,
    currentLayers: consumer.currentLayers ?? null,
    preferredLayers: consumer.preferredLayers ?? null,
  };
  const sample: ServerTrackStatsSample = {
    trackId: consumer.id,
    producerId: consumer.producerId,
    direction: 'out',
    identity: peer.identity,
    kind: consumer.kind,
    source: producerInfo?.source ?? (consumer.kind === 'audio' ? 'microphone' : 'camera'),
    sampledAt,
    score: info.score,
    bitrateBps: info.bitrate,
    packets: info.packetCount,
    packetsLost: info.packetsLost,
    lossRatio: (out?.fractionLost ?? 0) / 256,
    jitterMs: null,
    rttMs: out?.roundTripTime ?? null,
    nackCount: out?.nackCount ?? 0,
    pliCount: out?.pliCount ?? 0,
    firCount: out?.firCount ?? 0,
    spatialLayer: consumer.currentLayers?.spatialLayer ?? null,
    temporalLayer: consumer.currentLayers?.temporalLayer ?? null,
  };
  return [info, sample];
}

/** Samples every producer's and consumer's getStats() in the room at once. */
export async function sampleRoom(room: Room): Promise<RoomSample> {
  const sampledAt = new Date().toISOString();
  const producers: ProducerStatsInfo[] = [];
  const consumers: ConsumerStatsInfo[] = [];
  const samples: ServerTrackStatsSample[] = [];
  const sources = new Map<string, { identity: string; source: ServerTrackStatsSample['source'] }>();
  for (const peer of room.peers.values()) {
    for (const producer of peer.producers.values()) sources.set(producer.id, { identity: peer.identity, source: producer.appData.source });
  }
  const jobs: Promise<void>[] = [];
  for (const peer of room.peers.values()) {
    for (const producer of peer.producers.values()) {
      jobs.push(
        sampleProducer(peer, producer, sampledAt).then(([info, sample]) => {
          producers.push(info);
          samples.push(sample);
        }),
      );
    }
    for (const consumer of peer.consumers.values()) {
      jobs.push(
        sampleConsumer(peer, consumer, sources.get(consumer.producerId), sampledAt).then(([info, sample]) => {
          consumers.push(info);
          samples.push(sample);
        }),
      );
    }
  }
  // A track closing while it is sampled rejects its job: it is simply left out.
  await Promise.allSettled(jobs);
  return { info: { roomId: room.id, participants: room.joinedPeers().length, producers, consumers, sampledAt }, samples };
}
