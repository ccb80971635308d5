import {
  computeConnectionQuality,
  qualityInputs,
  rtpTotals,
  worseQuality,
  worstTrackInputs,
  type ConnectionQuality,
  type RtpTotals,
  type TrackInputs,
} from './ConnectionQuality.js';
import type { LocalParticipant } from '../participant/LocalParticipant.js';
import type { RemoteParticipant } from '../participant/RemoteParticipant.js';
import { readStats, type StatsSource } from './rtc-stats.js';

type Target = LocalParticipant | RemoteParticipant;

/** Samples getStats() every interval and grades each participant (see {@link ConnectionQuality}). */
export class QualityMonitor {
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #targets: () => { local: LocalParticipant | undefined; remotes: RemoteParticipant[] };
  readonly #onChange: (quality: ConnectionQuality, participant: Target) => void;
  /** Each track's counters at the previous sample. */
  readonly #previous = new WeakMap<StatsSource, RtpTotals>();
  readonly #producerScores = new Map<string, number>();
  #running = false;

  constructor(
    intervalMs: number,
    targets: () => { local: LocalParticipant | undefined; remotes: RemoteParticipant[] },
    onChange: (quality: ConnectionQuality, participant: Target) => void,
  ) {
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
        this.#grade(
          local,
          await this.#trackInputs(
            local.tracks.map((t) => ({ source: t, expectFlow: !t.isMuted })),
            'out',
          ),
          scores,
          undefined,
        );
      }
      for (const remote of remotes) {
        const scores = remote.tracks.map((t) => t.score?.producerScore).filter((s): s is number => s !== undefined);
        this.#grade(
          remote,
          await this.#trackInputs(
            remote.tracks.map((t) => ({ source: t, expectFlow: !t.isMuted && !t.isPausedBySubscriber })),
            'in',
          ),
          scores,
          remote.reportedQuality,
        );
      }
    } finally {
      this.#running = false;
    }
  }

  /** Each track's inputs over the interval since the previous sample (tracks without stats left out). */
  async #trackInputs(tracks: { source: StatsSource; expectFlow: boolean }[], direction: 'in' | 'out'): Promise<TrackInputs[]> {
    const snapshots = await Promise.all(tracks.map(({ source }) => readStats(source, direction)));
    const inputs: TrackInputs[] = [];
    tracks.forEach(({ source, expectFlow }, i) => {
      const snapshot = snapshots[i];
      if (!snapshot) return;
      const totals = rtpTotals([snapshot], direction);
      inputs.push({ inputs: qualityInputs(this.#previous.get(source), totals, null, expectFlow), expectFlow });
      this.#previous.set(source, totals);
    });
    return inputs;
  }

  /** `reported`: a remote participant's own grade of its link; ours is never better than it. */
  #grade(participant: Target, perTrack: TrackInputs[], scores: number[], reported: ConnectionQuality | undefined): void {
    const quality = worseQuality(computeConnectionQuality(worstTrackInputs(perTrack, scores.length ? Math.min(...scores) : null)), reported);
    if (participant.setConnectionQuality(quality)) this.#onChange(quality, participant);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
