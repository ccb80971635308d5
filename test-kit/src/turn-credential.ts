import { turnCredentials } from '@telemed/api/turn-credentials';
import type { IceServer } from '@telemed/sdk';

export interface TestTurnCredentialOptions {
  urls: readonly string[];
  /** coturn's `static-auth-secret` (the API's TURN_SECRET); another one forges the password. */
  secret: string;
  /** The user the credential names. */
  user: string;
  /** When coturn stops taking it: in the past for an expired credential. */
  expiresAt: Date;
}

/** A TURN REST API credential from the API's own issuer, so tests speak exactly what production speaks. */
export function turnCredential(options: TestTurnCredentialOptions): IceServer {
  const ttlSeconds = 60;
  const [server] = turnCredentials(
    { turnUrls: options.urls, turnSecret: options.secret },
    options.user,
    ttlSeconds,
    options.expiresAt.getTime() - ttlSeconds * 1000,
  );
  if (!server) throw new Error('turnCredential: no TURN URL or secret given');
  return server;
}
