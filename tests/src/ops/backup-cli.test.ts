// `telemed backup | restore | migrate` as an operator runs them (the built CLI, its exit codes and
// messages), on the embedded database. The data's round trip through the API is proven by
// api/src/backup/restore-drill.test.ts on both databases.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TELEMED_CLI, telemed } from './telemed-cli.js';

const PASSPHRASE = 'the clinic backup passphrase 7';

describe('telemed backup, restore and migrate (embedded database)', () => {
  let dir: string;
  let a: string;
  let b: string;
  const keyRing = `k1:${randomBytes(32).toString('base64')}`;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-backup-cli-'));
    a = path.join(dir, 'a.env');
    b = path.join(dir, 'b.env');
    // Each server's configuration as the deployment guide makes it: `telemed secrets` and the public URL.
    const secrets = () => execFileSync(process.execPath, [TELEMED_CLI, 'secrets'], { encoding: 'utf8' });
    const common = 'PUBLIC_URL=https://telemed.clinic.example\n';
    fs.writeFileSync(a, `${common}TELEMED_DATA_DIR=${path.join(dir, 'a')}\n${secrets().replace(/^ENCRYPTION_KEY=.*$/m, `ENCRYPTION_KEY=${keyRing}`)}\n`, {
      mode: 0o600,
    });
    fs.writeFileSync(b, `# the new server\n${common}TELEMED_DATA_DIR=${path.join(dir, 'b')}\n${secrets()}\n`, { mode: 0o600 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // About ten commands, each opening the embedded database (seconds each; minutes on a busy machine).
  it('migrates, backs up, refuses a wrong passphrase and a used installation, restores with the key ring', { timeout: 600_000 }, async () => {
    let r = await telemed(['migrate', 'status', '--config', a]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pending {2}2026-11-24T09-40-initial$/m);
    expect(r.stdout).toMatch(/0 applied, \d+ pending \(pglite\)/);
    r = await telemed(['add-user', '--config', a, '--role', 'admin', '--email', 'it@clinic.example', '--name', 'Clinic IT'], {
      TELEMED_NEW_PASSWORD: 'a long admin password',
    });
    expect(r.code, r.stderr).toBe(0);
    r = await telemed(['migrate', 'status', '--config', a]);
    expect(r.stdout).toMatch(/\d+ applied, 0 pending/);

    const out = path.join(dir, 'backups', 'b1');
    r = await telemed(['backup', '--config', a, '--out', out]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('no passphrase: set TELEMED_BACKUP_PASSPHRASE');
    r = await telemed(['backup', '--config', a, '--out', out], { TELEMED_BACKUP_PASSPHRASE: PASSPHRASE });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/telemed backup: database: .* MiB in/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(keyRing.slice(3));
    expect(`${r.stdout}${r.stderr}`).not.toContain(PASSPHRASE);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { database: { kind: string }; counts: Record<string, number> };
    expect(manifest).toMatchObject({ database: { kind: 'pglite' }, counts: { users: 1 } });
    expect(fs.existsSync(`${out}.key-ring`)).toBe(true);
    expect(fs.statSync(`${out}.key-ring`).mode & 0o777).toBe(0o600);

    r = await telemed(['restore', '--config', b, '--from', out], { TELEMED_BACKUP_PASSPHRASE: 'not the right passphrase' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('wrong passphrase');
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(false);
    r = await telemed(['restore', '--config', b, '--from', out], { TELEMED_BACKUP_PASSPHRASE: PASSPHRASE, ENCRYPTION_KEY: keyRing });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ENCRYPTION_KEY is set in the environment');

    r = await telemed(['restore', '--config', b, '--from', out], { TELEMED_BACKUP_PASSPHRASE: PASSPHRASE });
    expect(r.code, r.stderr).toBe(0);
    const config = fs.readFileSync(b, 'utf8');
    expect(config).toContain(`ENCRYPTION_KEY=${keyRing}\n`);
    expect(config).toContain('# the new server\n');
    expect(fs.statSync(b).mode & 0o777).toBe(0o600);
    r = await telemed(['restore', '--config', b, '--from', out], { TELEMED_BACKUP_PASSPHRASE: PASSPHRASE });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('refusing to restore into an installation that holds data');

    // The restored installation has the schema and the user.
    r = await telemed(['migrate', 'status', '--config', b]);
    expect(r.stdout).toMatch(/\d+ applied, 0 pending/);
    r = await telemed(['add-user', '--config', b, '--role', 'admin', '--email', 'it@clinic.example', '--name', 'Again'], {
      TELEMED_NEW_PASSWORD: 'a long admin password',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a user with e-mail it@clinic.example exists');
    r = await telemed(['migrate', 'sideways', '--config', b]);
    expect(r.code).toBe(64);
  });
});
