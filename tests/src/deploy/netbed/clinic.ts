// The clinic host of the namespace test bed: the production stack the way docs/deployment.md
// installs it, inside the bed's `clinic` namespace. `telemed serve` (API + media server, PGlite),
// Caddy on the main address's 443 with the test CA's certificate, coturn on a second address
// (TURN over UDP/TCP 3478 and over TLS on 443). startClinicHost() is the one step that knows how the
// clinic is started: a compose-based clinic can take its place with the same result type.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCaddy } from '../caddy.js';
import { startCoturn } from '../coturn.js';
import { runTelemed, startProduction, STAFF_PASSWORD } from '../production.js';
import type { TestCa } from '../tls.js';
import type { NetBed } from './netns.js';

export const WEB_HOST = 'telemed.test';
export const TURN_HOST = 'turn.telemed.test';
/** Inside the clinic namespace: fixed, well-known ports (nothing else listens there). */
export const MEDIA_RTC_PORT = 40000;

export type Role = 'admin' | 'doctor' | 'patient';
export interface Account {
  role: Role;
  email: string;
  name: string;
}

export interface ClinicHost {
  /** https://telemed.test, as browsers in the bed reach it. */
  origin: string;
  /** The clinic's main address (Caddy, media server) and coturn's own. */
  webIp: string;
  turnIp: string;
  turnSecret: string;
  /** User ids by e-mail. */
  users: Record<string, string>;
  coturnOutput(): string;
  /** Everything the launcher printed. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the clinic in `bed`'s `clinic` host (two addresses: web, TURN), creates `accounts` with
 * `telemed add-user` (password STAFF_PASSWORD) and links every doctor to every patient as an admin
 * would, through the admin API.
 */
export async function startClinicHost(bed: NetBed, options: { ca: TestCa; dir: string; accounts: readonly Account[] }): Promise<ClinicHost> {
  const clinic = bed.hosts.clinic;
  if (!clinic || clinic.addresses.length < 2) throw new Error('the bed needs a clinic host with two addresses (web, TURN)');
  const [webIp, turnIp] = clinic.addresses as [string, string];
  const turnSecret = randomBytes(32).toString('base64url');
  const users: Record<string, string> = {};
  const stack = await startProduction(
    {
      PUBLIC_URL: `https://${WEB_HOST}`,
      API_PORT: '3000',
      MEDIA_PORT: '4443',
      MEDIA_RTC_BASE_PORT: String(MEDIA_RTC_PORT),
      MEDIA_RTC_LISTEN_IP: webIp,
      ANNOUNCED_IP: webIp,
      TRUSTED_PROXIES: '127.0.0.1',
      TURN_URLS: `turn:${TURN_HOST}:3478?transport=udp,turns:${TURN_HOST}:443?transport=tcp`,
      TURN_SECRET: turnSecret,
    },
    {
      netns: clinic.ns,
      beforeStart: async ({ configFile }) => {
        for (const account of options.accounts) {
          const added = await runTelemed(['add-user', '--config', configFile, '--role', account.role, '--email', account.email, '--name', account.name], {
            input: `${STAFF_PASSWORD}\n`,
          });
          const id = /\(([0-9a-f-]{36})\)/.exec(added.stdout)?.[1];
          if (!id) throw new Error(`add-user ${account.email} failed: ${added.stderr}`);
          users[account.email] = id;
        }
      },
    },
  );
  const stops: Array<() => Promise<unknown>> = [() => stack.stop()];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
    fs.rmSync(stack.dir, { recursive: true, force: true });
  };
  try {
    const caddy = await startCaddy({
      dir: stack.dir,
      domain: WEB_HOST,
      port: 443,
      cert: options.ca.cert,
      key: options.ca.key,
      api: '127.0.0.1:3000',
      media: '127.0.0.1:4443',
      bind: webIp,
      netns: clinic.ns,
    });
    stops.push(() => caddy.stop());
    const coturn = await startCoturn({
      dir: path.join(stack.dir, 'coturn'),
      port: 3478,
      relayPorts: [49160, 49260],
      secret: turnSecret,
      listenIp: turnIp,
      mediaIp: webIp,
      tls: { port: 443, cert: options.ca.cert, key: options.ca.key },
      netns: clinic.ns,
    });
    stops.push(() => coturn.stop());
    linkCareRelationships(bed, options.accounts, users);
    return { origin: `https://${WEB_HOST}`, webIp, turnIp, turnSecret, users, coturnOutput: coturn.output, output: stack.output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The admin links each doctor to each patient over the API, from the clinic host itself. */
function linkCareRelationships(bed: NetBed, accounts: readonly Account[], users: Record<string, string>): void {
  const admin = accounts.find((a) => a.role === 'admin');
  const links = accounts
    .filter((a) => a.role === 'doctor')
    .flatMap((d) => accounts.filter((a) => a.role === 'patient').map((p) => ({ doctorId: users[d.email], patientId: users[p.email] })));
  if (links.length === 0) return;
  if (!admin) throw new Error('linking doctors and patients needs an admin account');
  const script = `
    const [email, password, links] = [process.argv[1], process.argv[2], JSON.parse(process.argv[3])];
    const api = 'http://127.0.0.1:3000';
    const post = async (path, body, token) => {
      const res = await fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(path + ': ' + res.status + ' ' + await res.text());
      const text = await res.text();
      return text ? JSON.parse(text) : {};
    };
    const { accessToken } = await post('/api/auth/login', { email, password });
    for (const link of links) await post('/api/admin/care-relationships', link, accessToken);
  `;
  bed.run('clinic', process.execPath, ['--input-type=module', '-e', script, admin.email, STAFF_PASSWORD, JSON.stringify(links)]);
}
