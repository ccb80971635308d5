// Rules and code cannot drift apart: every telemed_* metric (and every label it is filtered by)
// that deploy/prometheus/alerts.yml uses must be served by the real /metrics of the built API and
// media server. The same platform shows its log files rotating by size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestPlatform, type Platform } from '../platform.js';
import { waitFor } from '@telemed/test-kit';

const RULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'prometheus', 'alerts.yml');

interface Exposition {
  /** Every series name a scrape can hold (histograms: _bucket, _sum, _count). */
  names: Set<string>;
  /** Label names seen on each series name's samples. */
  labels: Map<string, Set<string>>;
}

function parseExposition(text: string): Exposition {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const set = labels.get(sample[1]!) ?? new Set<string>();
    for (const [, label] of (sample[2] ?? '').matchAll(/(\w+)="/g)) set.add(label!);
    labels.set(sample[1]!, set);
  }
  return { names, labels };
}

/** Selectors of telemed_* metrics in the rules (comments left out): name → label names filtered on. */
function ruleSelectors(): Map<string, Set<string>> {
  const text = fs
    .readFileSync(RULES, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  const selectors = new Map<string, Set<string>>();
  for (const [, name, matchers] of text.matchAll(/\b(telemed_[a-z0-9_]+)(?:\{([^}]*)\})?/g)) {
    const set = selectors.get(name!) ?? new Set<string>();
    for (const [, label] of (matchers ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) set.add(label!);
    selectors.set(name!, set);
  }
  return selectors;
}

describe('alert rules against the real /metrics', () => {
  let platform: Platform;
  const scraped: Exposition[] = [];
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-ops-logs-'));

  beforeAll(async () => {
    platform = await startTestPlatform({ numWorkers: 1, logLevel: 'info', logDir, logMaxBytes: 4096, logKeep: 2 });
    // Some traffic, so labelled series have samples (a request, a probe).
    expect((await fetch(`${platform.apiUrl}/ready`)).status).toBe(200);
    for (const base of [platform.apiUrl, platform.mediaHttpUrl]) {
      const res = await fetch(`${base}/metrics`); // loopback, no METRICS_TOKEN: allowed
      expect(res.status, base).toBe(200);
      scraped.push(parseExposition(await res.text()));
    }
  });
  afterAll(async () => {
    await platform?.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('every telemed_* metric in alerts.yml is served, with the labels the rules filter on', () => {
    const selectors = ruleSelectors();
    expect(selectors.size).toBeGreaterThanOrEqual(15);
    const missing: string[] = [];
    for (const [name, labels] of selectors) {
      const served = scraped.find((e) => e.names.has(name));
      if (!served) {
        missing.push(name);
        continue;
      }
      // Label names are checked where the series has samples (an unused labelled counter has none yet).
      const seen = served.labels.get(name);
      for (const label of labels) if (seen && !seen.has(label)) missing.push(`${name}{${label}}`);
    }
    expect(missing, 'used by alerts.yml but not served by /metrics').toEqual([]);
    console.log(
      `alerts.yml uses ${selectors.size} telemed metrics; all served (API ${scraped[0]!.names.size} series names, media server ${scraped[1]!.names.size})`,
    );
  });

  it('the API serves its metrics with the telemed_api_ prefix and the media server with telemed_media_', () => {
    expect([...scraped[0]!.names].some((n) => n.startsWith('telemed_media_'))).toBe(false);
    expect([...scraped[1]!.names].some((n) => n.startsWith('telemed_api_'))).toBe(false);
  });

  it('writes logs/<service>.log rotated by size, whole JSON lines in every file', async () => {
    // Each request is one info line (~200 bytes): 4 KiB fills within a few dozen.
    for (let i = 0; i < 60; i++) await fetch(`${platform.apiUrl}/api/users/me`);
    await waitFor('api.log rotated twice', async () => (fs.existsSync(path.join(logDir, 'api.log.2')) ? true : undefined), { timeoutMs: 10_000 });
    // Health probes that succeed are logged at debug, not info (a proxy asks every second); as
    // info lines these 10 would be in api.log or api.log.1, which the loop below reads.
    for (let i = 0; i < 10; i++) await fetch(`${platform.apiUrl}/live`);
    await fetch(`${platform.apiUrl}/api/users/me`);
    await waitFor(
      'the last request logged',
      async () => (fs.readFileSync(path.join(logDir, 'api.log'), 'utf8').split('\n').filter(Boolean).length > 0 ? true : undefined),
      { timeoutMs: 10_000 },
    );
    expect(fs.existsSync(path.join(logDir, 'api.log.3'))).toBe(false); // logKeep: 2
    for (const file of fs.readdirSync(logDir)) {
      const content = fs.readFileSync(path.join(logDir, file), 'utf8');
      if (file.startsWith('api.log.')) expect(Buffer.byteLength(content), file).toBeLessThanOrEqual(4096 + 1024);
      for (const record of content.split('\n').filter(Boolean)) {
        expect(() => JSON.parse(record), `${file}: ${record.slice(0, 80)}`).not.toThrow();
        const { level, path: requestPath } = JSON.parse(record) as { level?: number; path?: string };
        expect(requestPath === '/live' && (level ?? 0) >= 30, `${file}: a /live probe logged at info`).toBe(false);
      }
    }
  });
});
