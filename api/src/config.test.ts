import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from './config.js';

const secrets = {
  ROOM_TOKEN_SECRET: 'r'.repeat(40),
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  ACCESS_TOKEN_SECRET: 'a'.repeat(40),
  MEDIA_WEBHOOK_SECRET: 'w'.repeat(40),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    configFromEnv({ ...secrets, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configFromEnv', () => {
  it('turns text into typed settings, with defaults for what is unset or empty', () => {
    const config = configFromEnv({
      ...secrets,
      API_PORT: '4100',
      CORS_ORIGINS: 'https://a.example,https://b.example',
      SMTP_SECURE: 'true',
      LOGIN_RATE_LIMIT: '',
    });
    expect(config).toMatchObject({ port: 4100, corsOrigins: ['https://a.example', 'https://b.example'], smtpSecure: true, mode: 'development' });
    expect(config.loginRateLimit).toBe(configFromEnv(secrets).loginRateLimit);
  });

  it('reads NODE_ENV=production as production mode unless TELEMED_MODE says otherwise', () => {
    expect(configFromEnv({ ...secrets, NODE_ENV: 'production' }).mode).toBe('production');
    expect(configFromEnv({ ...secrets, NODE_ENV: 'production', TELEMED_MODE: 'test' }).mode).toBe('test');
  });

  it('names the variable to fix in every problem', () => {
    const problems = problemsOf({ API_PORT: 'eighty', SMTP_SECURE: 'yes', TELEMED_MODE: 'prod' });
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^API_PORT \(port\): /),
        expect.stringMatching(/^SMTP_SECURE \(smtpSecure\): /),
        expect.stringMatching(/^TELEMED_MODE \(mode\): /),
      ]),
    );
  });
});
