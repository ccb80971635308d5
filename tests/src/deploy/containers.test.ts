// The container path of docs/deployment.md: the images (built by scripts/containers.mjs, cached by
// input hash), deploy/compose.yaml under podman-compose with a certificate from a CA the test makes
// (Chromium trusts it through its NSS database): health, a call, a graceful stop, then new
// containers on the same volumes; then deploy/kubernetes/ under `podman kube play`.
// Everything is reached over https through Caddy, as a clinic's users would.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { doctorsVideoCall } from './browser-call.js';
import { COMPOSE_SERVICES, startComposeStack, type ComposeStack } from './compose-stack.js';
import { startKubeStack, type KubeStack } from './kube-stack.js';
import { DOCTORS, STAFF_PASSWORD } from './production.js';
import { createTestCa, type TestCa } from './tls.js';
import { gatherRelay } from './turn-probe.js';
import { freePortRange, turnCredential } from '@telemed/test-kit';

const HOST = 'telemed.test';
const ADMIN = { email: 'it@clinic.test', name: 'Clinic IT', password: 'a long admin passphrase' };
/** Cold: the base image and six images (minutes under load); warm: a few seconds. */
const START_TIMEOUT_MS = 1_200_000;
/** The attachment that must outlive the containers. */
const NOTE = `notes kept in the api-data volume ${Date.now()}`;
let attachment: { id: string };

let ca: TestCa;
let caDir: string;

beforeAll(() => {
  caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tmct-ca-'));
  ca = createTestCa(caDir, HOST);
});
afterAll(() => fs.rmSync(caDir, { recursive: true, force: true }));

const login = (stack: Pick<ComposeStack, 'request'>, email: string, password: string) =>
  stack.request({ path: '/api/auth/login', method: 'POST', body: { email, password } });

describe('the compose stack (deploy/compose.yaml) over HTTPS', () => {
  let stack: ComposeStack | undefined;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    // Short drains so the graceful-stop case below finishes quickly.
    stack = await startComposeStack({
      caCert: ca.caCert,
      cert: ca.cert,
      key: ca.key,
      host: HOST,
      settings: { API_DRAIN_TIMEOUT: '10', MEDIA_DRAIN_TIMEOUT: '5' },
    });
    console.log(
      `[containers] images ${stack.timings.images.toFixed(1)} s, compose up ${stack.timings.up.toFixed(1)} s, healthy through Caddy after ${stack.timings.healthy.toFixed(1)} s`,
    );
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 120_000);

  it('is healthy and ready through Caddy; no development route, no demo account, /metrics stays inside', async () => {
    const s = stack!;
    expect((await s.request({ path: '/health' })).status).toBe(200);
    const ready = await s.request({ path: '/ready' });
    expect(ready.status).toBe(200);
    // PostgreSQL and Redis from the stack, not PGlite and the in-process bus.
    expect(ready.body + (await s.request({ path: '/health' })).body).toMatch(/postgres/i);
    for (const page of ['/api/dev/room-token', '/api/demo/accounts', '/dev/call.html', '/dev/embed.html', '/metrics']) {
      expect((await s.request({ path: page })).status, page).toBe(404);
    }
    expect((await login(s, 'admin@telemed.demo', 'telemed-demo')).status).toBe(401);
    expect((await login(s, 'alice@patients.demo', 'telemed-demo')).status).toBe(401);
    expect((await s.request({ path: '/' })).body).toMatch(/<html/i);
    expect((await s.request({ path: '/admin/' })).status).toBe(200);
  });

  it("every service's own health check passes, and coturn's fails while coturn does not answer", async () => {
    const s = stack!;
    for (const service of COMPOSE_SERVICES) {
      const check = await s.healthcheck(service);
      expect(check.code, `${service}: ${check.stdout}${check.stderr}`).toBe(0);
    }
    // A frozen turnserver (its process stopped, the container up) must read unhealthy.
    const signal = (name: string) => s.exec('coturn', ['sh', '-c', `kill -${name} "$(cat /tmp/turnserver.pid)"`]);
    expect((await signal('STOP')).code).toBe(0);
    try {
      const frozen = await s.healthcheck('coturn');
      expect(frozen.code, frozen.stdout + frozen.stderr).toBe(1);
    } finally {
      await signal('CONT');
    }
    expect((await s.healthcheck('coturn')).code).toBe(0);
  });

  it('runs every service as a non-root user', async () => {
    const s = stack!;
    for (const service of COMPOSE_SERVICES) {
      const id = await s.exec(service, ['id', '-u']);
      expect(id.code, `${service}: ${id.stderr}`).toBe(0);
      expect(id.stdout.trim(), service).not.toBe('0');
    }
  });

  it('an admin created with `telemed add-user` inside the API container signs in (and two doctors are added)', async () => {
    const s = stack!;
    const added = await s.exec('api', ['telemed', 'add-user', '--role', 'admin', '--email', ADMIN.email, '--name', ADMIN.name], `${ADMIN.password}\n`);
    expect(added.stdout + added.stderr).toContain(`created admin ${ADMIN.email}`);
    const res = await login(s, ADMIN.email, ADMIN.password);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).user.role).toBe('admin');
    for (const [email, name] of DOCTORS) {
      const doctor = await s.exec('api', ['telemed', 'add-user', '--role', 'doctor', '--email', email, '--name', name], `${STAFF_PASSWORD}\n`);
      expect(doctor.stdout + doctor.stderr).toContain(`created doctor ${email}`);
    }
  });

  it("a doctor uploads an attachment (kept in the API container's volume)", async () => {
    const s = stack!;
    const [house, wilson] = await Promise.all(
      DOCTORS.map(async ([email]) => JSON.parse((await login(s, email, STAFF_PASSWORD)).body) as { accessToken: string; user: { id: string } }),
    );
    const auth = { authorization: `Bearer ${house!.accessToken}` };
    const conversation = await s.request({ path: '/api/conversations', method: 'POST', body: { kind: 'direct', memberIds: [wilson!.user.id] }, headers: auth });
    expect(conversation.status, conversation.body).toBe(201);
    const boundary = 'telemed-test-boundary';
    const form = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="note.txt"\r\nContent-Type: text/plain\r\n\r\n${NOTE}\r\n--${boundary}--\r\n`,
    );
    const upload = await s.request({
      path: `/api/conversations/${(JSON.parse(conversation.body) as { id: string }).id}/attachments`,
      method: 'POST',
      body: form,
      headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(upload.status, upload.body).toBe(201);
    attachment = JSON.parse(upload.body) as { id: string };
  });

  it('two doctors make a video call in Chromium through Caddy and the media container', async () => {
    const s = stack!;
    browser = await launchBrowser('chromium', { home: ca.browserHome, args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
    const started = Date.now();
    const { pages, video } = await doctorsVideoCall(browser, s.origin);
    console.log(
      `[containers] call through the compose stack: ${video[0].width}px/${video[0].frames} and ${video[1].width}px/${video[1].frames} frames decoded, ${((Date.now() - started) / 1000).toFixed(1)} s from sign-in`,
    );
    expect(pages[0].errors.filter((e) => /certificate|ERR_CERT|mixed content/i.test(e))).toEqual([]);
    // The ICE candidates the browsers were given are the published port on the announced address.
    expect(await s.logs('media')).not.toMatch(/"level":(50|60)/);
  });

  it('SIGTERM reaches node in the containers: the media server and the API drain and exit 0; the data outlives the containers', async () => {
    const s = stack!;
    await browser?.close();
    browser = undefined;
    for (const [service, drained] of [
      ['media', /draining: no new rooms/],
      ['api', /"msg":"draining"/],
    ] as const) {
      // A 60 s grace: a kill (exit 137) would mean the signal never reached node.
      const { exitCode, seconds } = await s.stopService(service, 60);
      console.log(`[containers] podman stop ${service}: exit ${exitCode} after ${seconds.toFixed(1)} s`);
      expect(exitCode, service).toBe(0);
      expect(await s.logs(service), service).toMatch(drained);
    }
    // New containers on the same volumes (what an upgrade does): the accounts (PostgreSQL's volume)
    // and an attachment's bytes (the API's volume) are still there.
    const seconds = await s.recreate();
    console.log(`[containers] down and up again: healthy after ${seconds.toFixed(1)} s`);
    expect((await login(s, ADMIN.email, ADMIN.password)).status).toBe(200);
    const house = JSON.parse((await login(s, DOCTORS[0][0], STAFF_PASSWORD)).body) as { accessToken: string };
    const download = await s.request({ path: `/api/attachments/${attachment.id}`, headers: { authorization: `Bearer ${house.accessToken}` } });
    expect(download.status).toBe(200);
    expect(download.body).toBe(NOTE);
  });
});

// The Secret is made with `containers.mjs kube-secret --podman`: podman 4.3's `kube play` reads only
// its data (a JSON map of base64 values) and refuses a whole Secret manifest.
describe('the Kubernetes manifests (deploy/kubernetes) under podman play kube', () => {
  let stack: KubeStack | undefined;
  /** coturn's TLS listener (TURN_TLS_PORT), on the host network as the manifest puts it. */
  let turnTlsPort: number;
  const turnSecret = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    turnTlsPort = await freePortRange(1);
    stack = await startKubeStack({
      caCert: ca.caCert,
      cert: ca.cert,
      key: ca.key,
      host: HOST,
      settings: { TURN_SECRET: turnSecret, TURN_TLS_PORT: String(turnTlsPort) },
    });
    console.log(`[containers] play kube: healthy through Caddy after ${stack.timings.healthy.toFixed(1)} s`);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it('is healthy through Caddy (and by its liveness probes) and an admin added in the API container signs in', async () => {
    const s = stack!;
    expect((await s.request({ path: '/ready' })).status).toBe(200);
    const added = await s.exec('api', ['telemed', 'add-user', '--role', 'admin', '--email', ADMIN.email, '--name', ADMIN.name], `${ADMIN.password}\n`);
    expect(added.stdout + added.stderr).toContain(`created admin ${ADMIN.email}`);
    expect((await login(s, ADMIN.email, ADMIN.password)).status).toBe(200);
    expect((await s.request({ path: '/api/dev/room-token' })).status).toBe(404);
    // The manifest's liveness probes, run now (podman turns them into health checks).
    for (const service of COMPOSE_SERVICES) {
      const check = await s.healthcheck(service);
      expect(check.code, `${service}: ${check.stdout}${check.stderr}`).toBe(0);
    }
  });

  it("two doctors make a video call in Chromium through the pod's Caddy and media server", async () => {
    const s = stack!;
    for (const [email, name] of DOCTORS) {
      const doctor = await s.exec('api', ['telemed', 'add-user', '--role', 'doctor', '--email', email, '--name', name], `${STAFF_PASSWORD}\n`);
      expect(doctor.stdout + doctor.stderr).toContain(`created doctor ${email}`);
    }
    const browser = await launchBrowser('chromium', { home: ca.browserHome, args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
    try {
      const started = Date.now();
      const { video } = await doctorsVideoCall(browser, s.origin);
      console.log(
        `[containers] call through the kube pod: ${video[0].width}px/${video[0].frames} and ${video[1].width}px/${video[1].frames} frames decoded, ${((Date.now() - started) / 1000).toFixed(1)} s from sign-in`,
      );
    } finally {
      await browser.close();
    }
  });

  it('the coturn pod speaks TURN over TLS with the mounted certificate, and Chromium gets a relay through turns:', async () => {
    const s = stack!;
    // The certificate from the turn-certs volume, verified against the test CA for the TURN host.
    const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: turnTlsPort, servername: HOST, ca: fs.readFileSync(ca.caCert) }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(peer.subjectaltname).toContain(`DNS:${HOST}`);
    const browser = await launchBrowser('chromium', { home: ca.browserHome, args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
    try {
      const page = await browser.newPage(s.origin);
      const server = turnCredential({
        urls: [`turns:${HOST}:${turnTlsPort}?transport=tcp`],
        secret: turnSecret,
        user: 'kube-probe',
        expiresAt: new Date(Date.now() + 600_000),
      });
      const gathered = await gatherRelay(page, [server]);
      console.log(`[containers] TURN/TLS through the kube coturn pod: ${JSON.stringify(gathered)}`);
      expect(gathered.candidates).toContain('relay');
    } finally {
      await browser.close();
    }
  });
});
