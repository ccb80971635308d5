// @telemed/server-sdk as a published package: what the tarball holds, and publint and
// arethetypeswrong clean, like the browser SDK's package test (sdk-package.test.ts).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, packageLint, type PackedPackage } from '../pack.js';

describe('the packed @telemed/server-sdk', () => {
  let dir: string;
  let packed: PackedPackage & { dir: string };
  let unpacked: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-server-sdk-pack-'));
    packed = await installPacked('server-sdk', path.join(dir, 'project'), dir);
    unpacked = packed.dir;
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ships its build, types, sources for the maps, README and LICENSE, and nothing of the build or tests', () => {
    console.log(`[server-sdk] packed ${packed.files.length} files`);
    expect(packed.files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']));
    expect(packed.files.filter((f) => /tsbuildinfo|\.test\./.test(f))).toEqual([]);
    for (const map of packed.files.filter((f) => f.endsWith('.map'))) {
      const json = JSON.parse(fs.readFileSync(path.join(unpacked, map), 'utf8')) as { sources: string[] };
      for (const source of json.sources) expect(fs.existsSync(path.resolve(path.dirname(path.join(unpacked, map)), source)), `${map} → ${source}`).toBe(true);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(pkg.dependencies ?? {}).toEqual({});
    // README links a user can follow from the package: only absolute ones, or files it ships.
    const readme = fs.readFileSync(path.join(unpacked, 'README.md'), 'utf8');
    for (const [, target] of readme.matchAll(/\]\(([^)]+)\)/g)) {
      if (/^https:\/\//.test(target!)) continue;
      expect(packed.files, `README link ${target}`).toContain(target!.split('#')[0]);
    }
  });

  it('is clean for publint and for arethetypeswrong (ESM-only), and works from a fresh project', async () => {
    const lint = await packageLint(packed);
    expect(lint.publint, 'publint').toEqual([]);
    console.log(`[server-sdk] attw:\n${lint.attw}`);
    // The installed package signs and verifies as the README shows.
    const script = [
      "import { signWebhook, verifyWebhook, WebhookVerificationError } from '@telemed/server-sdk';",
      "const body = JSON.stringify({ id: 'evt_1', type: 'webhook.ping', createdAt: new Date().toISOString(), data: { endpointId: 'e' } });",
      "const event = verifyWebhook(body, signWebhook(body, 'whsec_test'), 'whsec_test');",
      "try { verifyWebhook(body, signWebhook(body, 'whsec_other'), 'whsec_test'); } catch (e) { console.log(event.type, e instanceof WebhookVerificationError, e.code); }",
    ].join('\n');
    const run = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(dir, 'project') });
    expect(run.stdout.trim()).toBe('webhook.ping true WEBHOOK_SIGNATURE_INVALID');
  });
});
