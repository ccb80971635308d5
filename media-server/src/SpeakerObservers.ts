import type { types } from 'mediasoup';
import type { ProducerAppData } from './Peer.js';

export interface SpeakerObserversOptions {
  /** Audio-level sampling interval, ms. */
  intervalMs: number;
  onActiveSpeaker: (peerId: string) => void;
  onLevels: (levels: { participantId: string; producerId: string; volume: number }[]) => void;
}

/** A router's ActiveSpeakerObserver and AudioLevelObserver, fed every microphone producer. */
export class SpeakerObservers {
  readonly #activeSpeaker: types.ActiveSpeakerObserver;
  readonly #audioLevel: types.AudioLevelObserver;

  private constructor(activeSpeaker: types.ActiveSpeakerObserver, audioLevel: types.AudioLevelObserver) {
    this.#activeSpeaker = activeSpeaker;
    this.#audioLevel = audioLevel;
  }

  static async create(router: types.Router, options: SpeakerObserversOptions): Promise<SpeakerObservers> {
    const [activeSpeaker, audioLevel] = await Promise.all([
      router.createActiveSpeakerObserver({ interval: 300 }),
      router.createAudioLevelObserver({ maxEntries: 8, threshold: -70, interval: options.intervalMs }),
    ]);
    const peerOf = (producer: types.Producer): string => (producer.appData as ProducerAppData).peerId;
    activeSpeaker.on('dominantspeaker', ({ producer }) => options.onActiveSpeaker(peerOf(producer)));
    audioLevel.on('volumes', (volumes) =>
      options.onLevels(volumes.map(({ producer, volume }) => ({ participantId: peerOf(producer), producerId: producer.id, volume }))),
    );
    audioLevel.on('silence', () => options.onLevels([]));
    return new SpeakerObservers(activeSpeaker, audioLevel);
  }

  /** Observes a microphone producer until it closes. */
  async add(producer: types.Producer): Promise<void> {
    await Promise.all([this.#activeSpeaker.addProducer({ producerId: producer.id }), this.#audioLevel.addProducer({ producerId: producer.id })]);
  }
}
