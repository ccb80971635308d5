import type { Logger } from '../logger.js';

export interface MediaRevocationOptions {
  /** The media server's HTTP base as the API reaches it (MEDIA_INTERNAL_URL). */
  mediaInternalUrl: string;
  /** MEDIA_SERVICE_SECRET; without it the API cannot end media sessions (logged). */
  serviceSecret: string | undefined;
  logger: Logger;
}

/**
 * Ends a user's media sessions: the media server closes every signaling session of that identity
 * and refuses the room tokens issued to it until now (POST /identities/:identity/revoke).
 */
export class MediaRevocation {
  readonly #options: MediaRevocationOptions;

  constructor(options: MediaRevocationOptions) {
    this.#options = options;
  }

  /** Answers how many sessions the media server closed, or undefined when it could not be told. */
  async revoke(userId: string): Promise<number | undefined> {
    const { mediaInternalUrl, serviceSecret, logger } = this.#options;
    if (!serviceSecret) {
      logger.warn({ userId }, "MEDIA_SERVICE_SECRET is not set: the user's media sessions run on until they leave");
      return undefined;
    }
    try {
      const res = await fetch(new URL(`/identities/${encodeURIComponent(userId)}/revoke`, mediaInternalUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${serviceSecret}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { closed } = (await res.json()) as { closed: number };
      logger.info({ userId, closed }, 'media sessions revoked');
      return closed;
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err), userId }, "could not tell the media server to end the user's sessions");
      return undefined;
    }
  }
}
