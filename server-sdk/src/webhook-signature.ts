import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError, type UnknownWebhookEvent } from './errors.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEvent } from './webhook-events.js';

/** The header that carries a webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'Telemed-Signature';

export interface VerifyWebhookOptions {
  /** How far the signature's time may be from now, seconds (default 300): older ones are replays. */
  toleranceSeconds?: number;
  /** Now, for tests (default Date.now()). */
  now?: Date;
}

const hmac = (secret: string, timestamp: number, body: string | Uint8Array): Buffer =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

/** The `Telemed-Signature` value for a body (the API signs with it; tests forge with it). */
export function signWebhook(body: string | Uint8Array, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body).toString('hex')}`;
}

/**
 * Checks a webhook and returns its event: the raw body exactly as received (not re-serialized
 * JSON), the `Telemed-Signature` header, and the endpoint's secret. Throws a
 * WebhookVerificationError when the header is missing or malformed, no signature matches
 * (compared in constant time), or the timestamp is outside `toleranceSeconds`.
 */
export function verifyWebhook(
  body: string | Uint8Array,
  header: string | string[] | null | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  if (!secret) throw new WebhookVerificationError('WEBHOOK_MALFORMED', 'no webhook secret given');
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) throw new WebhookVerificationError('WEBHOOK_MALFORMED', `the ${WEBHOOK_SIGNATURE_HEADER} header is missing`);
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of value.split(',')) {
    const [key, ...rest] = part.trim().split('=');
    const text = rest.join('=');
    if (key === 't' && /^\d{1,12}$/.test(text)) timestamp = Number(text);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(text)) signatures.push(Buffer.from(text, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0)
    throw new WebhookVerificationError('WEBHOOK_MALFORMED', `the ${WEBHOOK_SIGNATURE_HEADER} header is not t=…,v1=…`);
  const expected = hmac(secret, timestamp, body);
  // Every candidate is compared (no early exit on the first match), each in constant time.
  let matched = false;
  for (const signature of signatures) matched = timingSafeEqual(signature, expected) || matched;
  if (!matched) throw new WebhookVerificationError('WEBHOOK_SIGNATURE_INVALID', 'the webhook signature does not match its body and secret');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - timestamp) > tolerance)
    throw new WebhookVerificationError(
      'WEBHOOK_TIMESTAMP_OUT_OF_RANGE',
      `the webhook was signed ${now - timestamp} s ago, beyond the ${tolerance} s tolerance`,
    );
  let event: unknown;
  try {
    event = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('WEBHOOK_MALFORMED', 'the webhook body is not JSON');
  }
  if (!isEvent(event)) throw new WebhookVerificationError('WEBHOOK_MALFORMED', 'the webhook body is not a Telemed event');
  if (!isKnown(event))
    throw new WebhookVerificationError('WEBHOOK_UNKNOWN_TYPE', `the webhook is authentic but of a type this SDK does not know: ${event.type}`, event);
  return event;
}

function isEvent(value: unknown): value is UnknownWebhookEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { id, type, createdAt, data } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof type === 'string' && typeof createdAt === 'string' && typeof data === 'object' && data !== null;
}

function isKnown(event: UnknownWebhookEvent | WebhookEvent): event is WebhookEvent {
  return event.type === 'webhook.ping' || (WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type);
}
