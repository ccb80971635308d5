import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER, type MediaEventBatch } from '@telemed/sdk/protocol';
import { signBodyToken } from '@telemed/server-kit';
import { TEST_SECRETS } from './test-app.js';

export interface MediaEventsPostOptions {
  /** The exact bytes to send instead of the batch's JSON (a malformed or mismatched body). */
  raw?: string;
  /** Sign with this secret instead of the test app's. */
  secret?: string;
  /** Send this bearer token instead of one signed for the body. */
  token?: string;
}

/** POSTs a batch to the API's media-event route, signed as a media server signs it. */
export function postMediaEvents(apiUrl: string, batch: MediaEventBatch, options: MediaEventsPostOptions = {}): Promise<Response> {
  const body = options.raw ?? JSON.stringify(batch);
  const token =
    options.token ??
    signBodyToken({
      secret: options.secret ?? TEST_SECRETS.mediaWebhookSecret,
      issuer: MEDIA_EVENTS_ISSUER,
      audience: MEDIA_EVENTS_AUDIENCE,
      body,
      expiresInSeconds: 60,
    });
  return fetch(`${apiUrl}/internal/media-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
}
