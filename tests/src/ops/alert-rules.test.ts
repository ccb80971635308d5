// The shipped Prometheus rules and configuration, checked and unit-tested by Prometheus's own
// promtool (Debian's `prometheus` package, installed by scripts/system-packages.sh test).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'prometheus');

function promtool(args: string[], cwd = DIR): string {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}): install Debian's prometheus package (scripts/system-packages.sh test)`);
  const output = `${result.stdout}${result.stderr}`;
  expect(result.status, output).toBe(0);
  return output;
}

describe('Prometheus rules and configuration', () => {
  it('promtool check rules: alerts.yml is valid', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires on its series and stays quiet on the others', () => {
    const rules = fs.readFileSync(path.join(DIR, 'alerts.yml'), 'utf8');
    const tests = fs.readFileSync(path.join(DIR, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(17);
    for (const alert of alerts) {
      // Each alert has a firing expectation and a quiet one (exp_alerts: []) or a quiet instance in its series.
      expect(tests, `${alert} has no test`).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
    }
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toContain('SUCCESS');
  });

  it('promtool check config: the example prometheus.yml loads with its rules', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-prometheus-'));
    try {
      for (const file of ['prometheus.yml', 'alerts.yml']) fs.copyFileSync(path.join(DIR, file), path.join(dir, file));
      fs.writeFileSync(path.join(dir, 'metrics-token'), 'a-metrics-token-for-the-check\n', { mode: 0o600 });
      expect(promtool(['check', 'config', 'prometheus.yml'], dir)).toMatch(/SUCCESS: 1 rule files found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
