// The production launcher: refuses missing and weak secrets by name, starts with the operator's
// settings, seeds nobody, serves no development route or page, writes no secret to the data.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDoctors, doctorsCall, runTelemed, START_TIMEOUT_MS, startProduction, strongSecrets, writeEnvFile, type ProductionStack } from './production.js';

describe('telemed serve refuses a weak configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-weak-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits non-zero naming every missing and weak secret, and starts nothing', async () => {
    const file = path.join(dir, 'weak.env');
    const strong = strongSecrets();
    writeEnvFile(file, {
      PUBLIC_URL: 'https://telemed.test',
      TELEMED_DATA_DIR: path.join(dir, 'data'),
      ROOM_TOKEN_SECRET: 'changeme',
      ACCESS_TOKEN_SECRET: 'a'.repeat(40),
      MEDIA_WEBHOOK_SECRET: strong.MEDIA_WEBHOOK_SECRET!,
      MEDIA_SERVICE_SECRET: strong.MEDIA_WEBHOOK_SECRET!,
      ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      TURN_URLS: 'turn:turn.telemed.test:3478',
    });
    const { code, stderr } = await runTelemed(['serve', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/refusing to start in production mode/);
    expect(stderr).toMatch(/ROOM_TOKEN_SECRET is weak: too short \(8 characters/);
    expect(stderr).toMatch(/ACCESS_TOKEN_SECRET is weak: too few distinct characters/);
    expect(stderr).toMatch(/MEDIA_SERVICE_SECRET is weak: the same value as MEDIA_WEBHOOK_SECRET/);
    expect(stderr).toMatch(/ENCRYPTION_KEY is weak: key k1: not random/);
    expect(stderr).toMatch(/TURN_SECRET is missing/);
    expect(stderr).not.toContain(strong.MEDIA_WEBHOOK_SECRET);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('names each missing secret and a plain-http public URL', async () => {
    const { code, stderr } = await runTelemed(['check'], { env: { PUBLIC_URL: 'http://telemed.test' } });
    expect(code).toBe(2);
    for (const name of ['ROOM_TOKEN_SECRET', 'ACCESS_TOKEN_SECRET', 'MEDIA_WEBHOOK_SECRET', 'MEDIA_SERVICE_SECRET', 'ENCRYPTION_KEY'])
      expect(stderr).toContain(`${name} is missing`);
    expect(stderr).toMatch(/PUBLIC_URL: must be a https: URL/);
  });

  it('refuses demo seeding and development mode', async () => {
    const { code, stderr } = await runTelemed(['check'], {
      env: { ...strongSecrets(), PUBLIC_URL: 'https://telemed.test', SEED_DEMO: 'true', TELEMED_MODE: 'development' },
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/SEED_DEMO=true: production never seeds demo users/);
    expect(stderr).toMatch(/TELEMED_MODE=development/);
  });

  it('prints fresh secrets that pass the check', async () => {
    const printed = await runTelemed(['secrets']);
    expect(printed.code).toBe(0);
    const file = path.join(dir, 'fresh.env');
    fs.writeFileSync(file, `PUBLIC_URL=https://telemed.test\nTURN_URLS=turn:turn.telemed.test:3478\n${printed.stdout}`);
    const checked = await runTelemed(['check', '--config', file]);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });
});

describe('the production stack', () => {
  let stack: ProductionStack;
  beforeAll(async () => {
    stack = await startProduction({ MEDIA_PUBLIC_URL: 'wss://media.telemed.test/rtc' }, { beforeStart: addDoctors });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    if (!stack) return;
    await stack.stop();
    fs.rmSync(stack.dir, { recursive: true, force: true });
  });

  const login = (email: string, password: string) =>
    fetch(`${stack.apiUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

  it('listens where the config says and is healthy', async () => {
    const health = await fetch(`${stack.apiUrl}/health`);
    expect(health.status).toBe(200);
    expect((await fetch(`${stack.mediaUrl}/health`)).status).toBe(200);
    expect(stack.output()).toContain(`media signaling:  127.0.0.1:${stack.ports.media} (browsers use wss://media.telemed.test/rtc)`);
  });

  it('has no demo account and no development route or page', async () => {
    expect((await login('alice@patients.demo', 'telemed-demo')).status).toBe(401);
    expect((await login('admin@telemed.demo', 'telemed-demo')).status).toBe(401);
    const devToken = await fetch(`${stack.apiUrl}/api/dev/room-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'r', identity: 'x' }),
    });
    expect(devToken.status).toBe(404);
    for (const page of ['/api/demo/accounts', '/dev/call.html', '/dev/call.js', '/dev/embed.html', '/dev/device-check.html']) {
      expect((await fetch(`${stack.apiUrl}${page}`)).status, page).toBe(404);
    }
    const openapi = (await (await fetch(`${stack.apiUrl}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((p) => p.startsWith('/api/dev') || p.startsWith('/api/demo'))).toEqual([]);
    // The apps themselves are served.
    const home = await fetch(`${stack.apiUrl}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toMatch(/<html/i);
  });

  it('gives the accounts the operator created room access at the configured public media URL', async () => {
    const { house, wilson } = await doctorsCall(stack.apiUrl);
    expect(house.url).toBe('wss://media.telemed.test/rtc');
    expect(wilson.url).toBe('wss://media.telemed.test/rtc');
    // No TURN configured: no relays handed out.
    expect(wilson.iceServers).toEqual([]);
  });

  it('keeps no secret in the data directory', () => {
    const dataDir = stack.settings.TELEMED_DATA_DIR!;
    expect(fs.existsSync(path.join(dataDir, 'secrets.json'))).toBe(false);
    const secrets = ['ROOM_TOKEN_SECRET', 'ACCESS_TOKEN_SECRET', 'MEDIA_WEBHOOK_SECRET', 'MEDIA_SERVICE_SECRET'].map((n) => Buffer.from(stack.settings[n]!));
    const files = fs
      .readdirSync(dataDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const secret of secrets) expect(bytes.includes(secret), file).toBe(false);
    }
  });

  it('stops on SIGTERM with exit code 0', async () => {
    expect(await stack.stop()).toBe(0);
    await expect(fetch(`${stack.apiUrl}/health`)).rejects.toThrow();
  });
});
