import { computeConnectionQuality, qualityInputs, rtpTotals, type ConnectionQuality, type RtpTotals } from './ConnectionQuality.js';
import type { LocalParticipant } from './LocalParticipant.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import { readStats, type StatsSnapshot, type StatsSource } from './rtc-stats.js';

type Target = LocalParticipant | RemoteParticipant;

/** Samples getStats() every interval and grades each participant (see {@link ConnectionQuality}). */
export class QualityMonitor {
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #targets: () => { local: LocalParticipant | undefined; remotes: RemoteParticipant[] };
  readonly #onChange: (quality: ConnectionQuality, participant: Target) => void;
  readonly #previous = new WeakMap<Target, RtpTotals>();
  readonly #producerScores = new Map<string, number>();
  #running = false;

  constructor(intervalMs: number, targets: () => { local: LocalParticipant | undefined; remotes: RemoteParticipant[] }, onChange: (quality: ConnectionQuality, participant: Target) => void) {
    this.#targets = targets;
    this.#onChange = onChange;
    this.#timer = setInterval(() => void this.sample(), intervalMs);
  }

  /** The SFU's score of one of our producers. */
  handleProducerScore(producerId: string, score: number): void {
    this.#producerScores.set(producerId, score);
  }

  async sample(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const { local, remotes } = this.#targets();
      if (local) {
        const scores = local.tracks.map((t) => (t.sid ? this.#producerScores.get(t.sid) : undefined)).filter((s): s is number => s !== undefined);
        this.#grade(local, rtpTotals(await readAll(local.tracks, 'out'), 'out'), scores, local.tracks.some((t) => !t.isMuted));
      }
      for (const remote of remotes) {
        const scores = remote.tracks.map((t) => t.score?.producerScore).filter((s): s is number => s !== undefined);
        this.#grade(remote, rtpTotals(await readAll(remote.tracks, 'in'), 'in'), scores, remote.tracks.some((t) => !t.isMuted && !t.isPausedBySubscriber));
      }
    } finally {
      this.#running = false;
    }
  }

  #grade(participant: Target, totals: RtpTotals, scores: number[], expectFlow: boolean): void {
    const inputs = qualityInputs(this.#previous.get(participant), totals, scores.length ? Math.min(...scores) : null, expectFlow);
    this.#previous.set(participant, totals);
    const quality = computeConnectionQuality(inputs);
    if (participant.setConnectionQuality(quality)) this.#onChange(quality, participant);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

async function readAll(tracks: readonly StatsSource[], direction: 'in' | 'out'): Promise<StatsSnapshot[]> {
  return (await Promise.all(tracks.map((t) => readStats(t, direction)))).filter((s) => s !== undefined);
}
