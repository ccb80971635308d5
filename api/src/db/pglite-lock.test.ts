import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseInUseError, lockDataDir } from './pglite-lock.js';

describe('embedded database directory lock', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-lock-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('refuses a second opener while held, and frees on release', () => {
    const dir = path.join(root, 'db');
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DatabaseInUseError);
    expect(() => lockDataDir(dir)).toThrow(/open in process \d+ \(this one\): stop the API first/);
    release();
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
    lockDataDir(dir)();
  });

  it('takes over a lock whose process is gone, or a previous process with our pid left (containers reuse pid 1)', () => {
    const dir = path.join(root, 'db2');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.writeFileSync(`${dir}.lock`, `${dead}\n`);
    const release = lockDataDir(dir);
    expect(fs.readFileSync(`${dir}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    release();
    fs.writeFileSync(`${dir}.lock`, `${process.pid}\n`);
    lockDataDir(dir)();
  });

  it('refuses while another live process holds it', () => {
    const dir = path.join(root, 'db3');
    fs.writeFileSync(`${dir}.lock`, `${process.ppid}\n`);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`open in process ${process.ppid}:`));
  });
});
