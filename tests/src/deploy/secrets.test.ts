// What the production launcher calls a weak secret (scripts/production.mjs), against what operators
// actually use: `telemed secrets`, and values from `openssl rand`.
import { describe, expect, it } from 'vitest';
import { freshSecrets, parseEnvFile, productionPlan, secretWeakness } from '../../../scripts/production.mjs';

describe('secret checks', () => {
  // A random value holds a given 4-character string now and then: with "abcd", "todo", "xxxx",
  // "0123" and "1234" as placeholders, 1 in 7,000 printed secrets was refused, and a fresh-clone
  // `npm test` failed on it (backup-cli: `telemed add-user` exited 2 on a restored installation).
  it('accepts every configuration `telemed secrets` prints (3,000 in a row)', () => {
    for (let i = 0; i < 3000; i++) {
      const settings = { ...parseEnvFile(freshSecrets({ containers: true })), PUBLIC_URL: 'https://telemed.test', TURN_URLS: 'turn:telemed.test:3478' };
      expect(() => productionPlan(settings)).not.toThrow();
    }
  });

  it('accepts random values that merely contain a short sequence, and hex from `openssl rand -hex 32`', () => {
    // 43 base64url characters from 32 random bytes, with "abcd" and "1234" in them.
    expect(secretWeakness('Qm7abcdZr1234Kp9vX_eN2sLwT5yHc8uJd0fGq-iBnO')).toBeUndefined();
    expect(secretWeakness('tX2todoPq9xxxxR7mN0123vB5kLz8WcJh3sYe6uFgDa')).toBeUndefined();
    // 64 hex characters using 13 of the 16 digits (1 in 4 such secrets has fewer than 16).
    expect(secretWeakness('26f0cc09d899823835921e198220f5fe55b6c9fcf35613e2d293bb69c38cfbe5')).toBeUndefined();
  });

  it('refuses placeholders, patterns and typed runs', () => {
    expect(secretWeakness('changeme')).toMatch(/too short/);
    expect(secretWeakness('please-change-this-to-something-long')).toMatch(/placeholder \(contains "change"\)/);
    expect(secretWeakness('my-Telemed-password-for-the-clinic-2026')).toMatch(/placeholder/);
    expect(secretWeakness('a'.repeat(40))).toMatch(/too few distinct characters \(1;/);
    expect(secretWeakness('ab12'.repeat(10))).toMatch(/too few distinct characters \(4;/);
    expect(secretWeakness('0123456789abcdefghijklmnopqrstuvwxyzABCD')).toMatch(/typed run \("012345"\)/);
    expect(secretWeakness('Kp9vX_eN2sLwT5yHc8uJd0fGqQQQQQQm7Zr1B-nOiA')).toMatch(/typed run \("QQQQQQ"\)/);
  });
});
