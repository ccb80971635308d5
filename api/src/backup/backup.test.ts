import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyBackup } from './backup.js';

describe('verifyBackup', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-verify-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sha = (data: string) => createHash('sha256').update(data).digest('hex');
  const write = (files: Array<{ path: string; bytes: number; sha256: string }>) =>
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        format: 'telemed-backup',
        version: 1,
        createdAt: new Date().toISOString(),
        database: { kind: 'pglite', file: { path: 'database.pglite.tar.gz', bytes: 4, sha256: sha('data') }, schema: null },
        attachments: { files },
        keyIds: ['k1'],
        counts: {},
      }),
    );

  it('accepts a backup whose files match, and names a missing, changed or escaping file (exit 5)', async () => {
    fs.writeFileSync(path.join(dir, 'database.pglite.tar.gz'), 'data');
    fs.mkdirSync(path.join(dir, 'attachments', 'ab'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'attachments', 'ab', 'abc'), 'file');
    write([{ path: 'ab/abc', bytes: 4, sha256: sha('file') }]);
    expect((await verifyBackup(dir)).attachments.files).toHaveLength(1);
    fs.writeFileSync(path.join(dir, 'attachments', 'ab', 'abc'), 'fild');
    await expect(verifyBackup(dir)).rejects.toMatchObject({ code: 'damaged', exitCode: 5, message: expect.stringContaining('ab/abc differs') });
    write([{ path: 'ab/gone', bytes: 4, sha256: sha('file') }]);
    await expect(verifyBackup(dir)).rejects.toThrow(/lacks ab\/gone/);
    write([{ path: '../../etc/passwd', bytes: 4, sha256: sha('file') }]);
    await expect(verifyBackup(dir)).rejects.toThrow(/lacks/);
    fs.rmSync(path.join(dir, 'manifest.json'));
    await expect(verifyBackup(dir)).rejects.toThrow(/is not a Telemed backup/);
  });
});
