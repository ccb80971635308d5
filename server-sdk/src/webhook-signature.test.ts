// verifyWebhook against signed bodies: a known event comes back typed; an authentic event of a
// type this SDK does not know (a newer platform) is told apart from a forged or malformed one.
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError } from './errors.js';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

const SECRET = 'whsec_unit-test';
const body = (type: string): string => JSON.stringify({ id: 'evt_1', type, createdAt: '2026-12-05T10:00:00.000Z', data: { callId: 'c1' } });
const errorOf = (run: () => unknown): WebhookVerificationError => {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error('verified');
};

describe('verifyWebhook', () => {
  it('returns a known event, typed', () => {
    const raw = body('call.ended');
    expect(verifyWebhook(raw, signWebhook(raw, SECRET), SECRET)).toMatchObject({ id: 'evt_1', type: 'call.ended' });
  });

  it('gives an authentic event of an unknown type as WEBHOOK_UNKNOWN_TYPE, with the event', () => {
    const raw = body('call.transcribed');
    const error = errorOf(() => verifyWebhook(raw, signWebhook(raw, SECRET), SECRET));
    expect(error.code).toBe('WEBHOOK_UNKNOWN_TYPE');
    expect(error.event).toEqual({ id: 'evt_1', type: 'call.transcribed', createdAt: '2026-12-05T10:00:00.000Z', data: { callId: 'c1' } });
  });

  it('checks the signature and the time before the type: a forged or replayed unknown event is refused as such', () => {
    const raw = body('call.transcribed');
    expect(errorOf(() => verifyWebhook(raw, signWebhook(raw, 'whsec_other'), SECRET))).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID', event: undefined });
    const old = signWebhook(raw, SECRET, Math.floor(Date.now() / 1000) - 3600);
    expect(errorOf(() => verifyWebhook(raw, old, SECRET)).code).toBe('WEBHOOK_TIMESTAMP_OUT_OF_RANGE');
    const shapeless = JSON.stringify({ id: 'evt_2', type: 7, createdAt: 'x', data: {} });
    expect(errorOf(() => verifyWebhook(shapeless, signWebhook(shapeless, SECRET), SECRET)).code).toBe('WEBHOOK_MALFORMED');
  });
});
