// The clinic host of the namespace test bed, in the bed's `clinic` namespace, started the way
// docs/deployment.md installs it. Two ways, one result type:
// - startComposeClinicHost: the containers of deploy/compose.yaml (section 10) under podman-compose
//   run inside the namespace: Caddy on the main address's 443 with the test CA's certificate, the
//   media server's ICE port, coturn on a second address (TURN over UDP/TCP 3478, and over TLS on
//   443 from deploy/compose.turn-tls.yaml), PostgreSQL and Redis;
// - startNativeClinicHost: `telemed serve` (API + media server, PGlite), Debian's Caddy and coturn
//   as sections 3-5 install them, on the same addresses and ports.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCaddy } from '../caddy.js';
import { namespaceRequester, startComposeStack, type ContainerStack } from '../compose-stack.js';
import { startCoturn } from '../coturn.js';
import { parseEnvFile } from '../../../../scripts/production.mjs';
import { runTelemed, startProduction, STAFF_PASSWORD } from '../production.js';
import type { TestCa } from '../tls.js';
import type { NetBed } from './netns.js';

export const WEB_HOST = 'telemed.test';
export const TURN_HOST = 'turn.telemed.test';
/** Inside the clinic namespace: fixed, well-known ports (nothing else listens there). */
export const MEDIA_RTC_PORT = 40000;
export const TURN_PORT = 3478;
/** How the clinic runs: the compose file's containers, or the native services. */
export type ClinicKind = 'compose' | 'native';

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
  /** What coturn logged. */
  coturnOutput(): Promise<string>;
  stop(): Promise<void>;
}

export interface ClinicHostOptions {
  ca: TestCa;
  dir: string;
  accounts: readonly Account[];
}

export function startClinicHost(bed: NetBed, kind: ClinicKind, options: ClinicHostOptions): Promise<ClinicHost> {
  return kind === 'compose' ? startComposeClinicHost(bed, options) : startNativeClinicHost(bed, options);
}

function clinicAddresses(bed: NetBed): { ns: string; webIp: string; turnIp: string } {
  const clinic = bed.hosts.clinic;
  if (!clinic || clinic.addresses.length < 2) throw new Error('the bed needs a clinic host with two addresses (web, TURN)');
  const [webIp, turnIp] = clinic.addresses as [string, string];
  return { ns: clinic.ns, webIp, turnIp };
}

/** Requests through the clinic's Caddy, made inside its namespace as the clinic's own machine would. */
function clinicRequester(ns: string, webIp: string, ca: TestCa): ContainerStack['request'] {
  return namespaceRequester({ netns: ns, address: webIp, port: 443, host: WEB_HOST, caCert: ca.caCert });
}

/**
 * The compose stack in the clinic's namespace (docs/deployment.md 10.2-10.3): the env file's
 * addresses are the clinic's, the accounts are added with `telemed add-user` in the API container.
 */
export async function startComposeClinicHost(bed: NetBed, options: ClinicHostOptions): Promise<ClinicHost> {
  const { ns, webIp, turnIp } = clinicAddresses(bed);
  const stack = await startComposeStack({
    caCert: options.ca.caCert,
    cert: options.ca.cert,
    key: options.ca.key,
    host: WEB_HOST,
    address: webIp,
    turnAddress: turnIp,
    ports: { https: 443, http: 80, rtc: MEDIA_RTC_PORT, turn: TURN_PORT },
    turnTls: { port: 443 },
    netns: ns,
    // Sessions logged: the test finds each patient's relay in coturn's log.
    settings: { TURN_URLS: `turn:${TURN_HOST}:${TURN_PORT}?transport=udp,turns:${TURN_HOST}:443?transport=tcp`, TURN_LOG_SESSIONS: 'true' },
  });
  const users: Record<string, string> = {};
  try {
    for (const account of options.accounts) {
      const added = await stack.exec(
        'api',
        ['telemed', 'add-user', '--role', account.role, '--email', account.email, '--name', account.name],
        `${STAFF_PASSWORD}\n`,
      );
      const id = /\(([0-9a-f-]{36})\)/.exec(added.stdout)?.[1];
      if (!id) throw new Error(`add-user ${account.email} failed: ${added.stdout}${added.stderr}`);
      users[account.email] = id;
    }
    await linkCareRelationships(stack.request, options.accounts, users);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const turnSecret = parseEnvFile(fs.readFileSync(stack.envFile, 'utf8')).TURN_SECRET ?? '';
  return { origin: stack.origin, webIp, turnIp, turnSecret, users, coturnOutput: () => stack.logs('coturn'), stop: () => stack.stop() };
}

/**
 * The native clinic in `bed`'s `clinic` host (two addresses: web, TURN): creates `accounts` with
 * `telemed add-user` (password STAFF_PASSWORD) and links every doctor to every patient as an admin
 * would, through the admin API.
 */
export async function startNativeClinicHost(bed: NetBed, options: ClinicHostOptions): Promise<ClinicHost> {
  const { ns, webIp, turnIp } = clinicAddresses(bed);
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
      TURN_URLS: `turn:${TURN_HOST}:${TURN_PORT}?transport=udp,turns:${TURN_HOST}:443?transport=tcp`,
      TURN_SECRET: turnSecret,
    },
    {
      netns: ns,
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
      netns: ns,
    });
    stops.push(() => caddy.stop());
    const coturn = await startCoturn({
      dir: path.join(stack.dir, 'coturn'),
      port: TURN_PORT,
      relayPorts: [49160, 49260],
      secret: turnSecret,
      listenIp: turnIp,
      mediaIp: webIp,
      tls: { port: 443, cert: options.ca.cert, key: options.ca.key },
      netns: ns,
    });
    stops.push(() => coturn.stop());
    await linkCareRelationships(clinicRequester(ns, webIp, options.ca), options.accounts, users);
    const coturnOutput = async (): Promise<string> => coturn.output();
    return { origin: `https://${WEB_HOST}`, webIp, turnIp, turnSecret, users, coturnOutput, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The admin links each doctor to each patient over the API, through Caddy from the clinic host. */
async function linkCareRelationships(request: ContainerStack['request'], accounts: readonly Account[], users: Record<string, string>): Promise<void> {
  const admin = accounts.find((a) => a.role === 'admin');
  const links = accounts
    .filter((a) => a.role === 'doctor')
    .flatMap((d) => accounts.filter((a) => a.role === 'patient').map((p) => ({ doctorId: users[d.email], patientId: users[p.email] })));
  if (links.length === 0) return;
  if (!admin) throw new Error('linking doctors and patients needs an admin account');
  const login = await request({ path: '/api/auth/login', method: 'POST', body: { email: admin.email, password: STAFF_PASSWORD } });
  if (login.status !== 200) throw new Error(`admin sign-in: ${login.status} ${login.body}`);
  const { accessToken } = JSON.parse(login.body) as { accessToken: string };
  for (const link of links) {
    const res = await request({ path: '/api/admin/care-relationships', method: 'POST', body: link, headers: { authorization: `Bearer ${accessToken}` } });
    if (res.status >= 300) throw new Error(`care link ${JSON.stringify(link)}: ${res.status} ${res.body}`);
  }
}
