// scripts/rotating-log.mjs, the size-rotated log files the platform writes (data/logs/*.log).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RotatingLogFile } from '../../../scripts/rotating-log.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-logs-'));
  dirs.push(dir);
  return dir;
};
const line = (n: number): string => `${JSON.stringify({ level: 30, n, msg: 'x'.repeat(60) })}\n`;

describe('RotatingLogFile', () => {
  it('rotates by size, keeps the newest files, never splits a line and loses none of the kept ones', () => {
    const dir = tempDir();
    const file = path.join(dir, 'api.log');
    const log = new RotatingLogFile(file, { maxBytes: 1000, keep: 3 });
    // Chunks that cut lines in the middle, as a pipe delivers them.
    const text = Array.from({ length: 200 }, (_, n) => line(n)).join('');
    for (let at = 0; at < text.length; at += 333) log.write(Buffer.from(text.slice(at, at + 333)));
    log.end();
    expect(fs.readdirSync(dir).sort()).toEqual(['api.log', 'api.log.1', 'api.log.2', 'api.log.3']);
    const kept = ['api.log.3', 'api.log.2', 'api.log.1', 'api.log'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const content of kept.slice(0, 3)) {
      expect(content.endsWith('\n')).toBe(true);
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(1000 + line(0).length);
    }
    const numbers = kept
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { n: number }).n);
    // The newest lines, in order, without a gap, up to the last one written.
    expect(numbers.at(-1)).toBe(199);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 200 - numbers.length + i));
  });

  it('continues an existing file at its size, and appends output that trails end()', () => {
    const dir = tempDir();
    const file = path.join(dir, 'media-server.log');
    fs.writeFileSync(file, line(0).repeat(10));
    const log = new RotatingLogFile(file, { maxBytes: line(0).length * 12, keep: 2 });
    log.write(line(1).repeat(3));
    // 10 + 3 lines pass the 12-line limit: the line under way ends the old file, the rest starts a new one.
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe(line(0).repeat(10) + line(1));
    log.end();
    log.write(line(2));
    expect(fs.readFileSync(file, 'utf8')).toBe(line(1) + line(1) + line(2));
  });
});
