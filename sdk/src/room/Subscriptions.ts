import { TelemedError } from '../errors.js';
import type { RemoteParticipant } from '../participant/RemoteParticipant.js';
import type { SignalingMethod } from '../protocol/messages.js';
import type { RemoteTrack } from '../track/RemoteTrack.js';
import type { RemoteTrackPublication } from '../track/RemoteTrackPublication.js';

export interface SubscriptionsOptions {
  /** The room's `autoSubscribe`: with it the server subscribes after a rejoin by itself. */
  autoSubscribe: boolean;
  /** How long a subscription waits for its track, ms. */
  timeoutMs: number;
  /** Sends `subscribe`/`unsubscribe` on the room's signaling; rejects when the room is not connected. */
  send: (method: Extract<SignalingMethod, 'subscribe' | 'unsubscribe'>, producerId: string) => Promise<void>;
}

/**
 * Subscriptions on demand (`RemoteTrackPublication.setSubscribed`): asks the server and waits for the
 * track; remembers what was subscribed when the session is lost, to subscribe to it again once the
 * rejoined room announces it (a full rejoin is a new server session that knows nothing of them).
 */
export class Subscriptions {
  readonly #options: SubscriptionsOptions;
  /** `identity/source` of what was subscribed when the session was lost, until seen again. */
  readonly #wanted = new Set<string>();

  constructor(options: SubscriptionsOptions) {
    this.#options = options;
  }

  async set(participant: RemoteParticipant, publication: RemoteTrackPublication, subscribed: boolean): Promise<void> {
    if (!subscribed) {
      await this.#options.send('unsubscribe', publication.sid).catch((error: unknown) => {
        // Unpublished meanwhile: not received any more either way.
        if (!(error instanceof TelemedError && error.code === 'NOT_FOUND')) throw error;
      });
      // The server's consumerClosed precedes its answer; this covers a track it had not announced yet.
      if (publication.track) participant.removeTrack(publication.track);
      return;
    }
    const arrival = trackArrival(participant, publication, this.#options.timeoutMs);
    try {
      await this.#options.send('subscribe', publication.sid);
    } catch (error) {
      arrival.cancel();
      throw error;
    }
    await arrival.done;
  }

  /** The session is lost: what the participants receive now is subscribed to again after the rejoin. */
  handleSessionLost(participants: Iterable<RemoteParticipant>): void {
    if (this.#options.autoSubscribe) return;
    for (const participant of participants) {
      for (const publication of participant.trackPublications) {
        if (publication.isSubscribed) this.#wanted.add(key(participant, publication));
      }
    }
  }

  /** A publication the room learned of: subscribed to again when it was before the session was lost. */
  handlePublication(participant: RemoteParticipant, publication: RemoteTrackPublication): void {
    if (!this.#wanted.delete(key(participant, publication))) return;
    publication.setSubscribed(true).catch((error: unknown) => console.warn('[telemed] could not subscribe again to a track after rejoining', error));
  }

  /** The room disconnected for good. */
  close(): void {
    this.#wanted.clear();
  }
}

// By identity and source: after a failover the publisher's producers (and sids) are new too.
function key(participant: RemoteParticipant, publication: RemoteTrackPublication): string {
  return `${participant.identity}\n${publication.source}`;
}

/** Resolves once `publication` has its track; rejects when it is unpublished, its participant leaves, or on timeout. */
function trackArrival(participant: RemoteParticipant, publication: RemoteTrackPublication, timeoutMs: number): { done: Promise<void>; cancel(): void } {
  let cleanup = (): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const finish = (error?: TelemedError): void => {
      cleanup();
      if (error) reject(error);
      else resolve();
    };
    const onSubscribed = (track: RemoteTrack): void => {
      if (track.sid === publication.sid) finish();
    };
    const onUnpublished = (gone: RemoteTrackPublication): void => {
      if (gone === publication) finish(new TelemedError('NOT_FOUND', `track ${publication.sid} was unpublished`));
    };
    const onLeft = (): void => finish(new TelemedError('NOT_FOUND', `${participant.identity} left the room`));
    const timer = setTimeout(() => finish(new TelemedError('TIMEOUT', `track ${publication.sid} did not arrive within ${timeoutMs} ms`)), timeoutMs);
    cleanup = () => {
      clearTimeout(timer);
      participant.off('trackSubscribed', onSubscribed);
      participant.off('trackUnpublished', onUnpublished);
      participant.off('left', onLeft);
    };
    participant.on('trackSubscribed', onSubscribed);
    participant.on('trackUnpublished', onUnpublished);
    participant.on('left', onLeft);
  });
  return { done, cancel: () => cleanup() };
}
