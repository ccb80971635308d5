// The signaling baseline: the least a server needs to do for the same join, with no platform
// code — ws, an HS256 token check, a router per room, two WebRtcTransports on the worker's
// WebRtcServer, and answers in the same envelopes. Run as its own process, like the media server.
//   node bare-server.js <port> <rtcBasePort> <numWorkers> <secret>
import jwt from 'jsonwebtoken';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { WebSocketServer } from 'ws';
import { SFU_CODECS } from '../sfu/targets.js';

const [port = '0', rtcBasePort = '0', numWorkers = '1', secret = ''] = process.argv.slice(2);

const workers: { worker: types.Worker; server: types.WebRtcServer; routers: number }[] = [];
for (let i = 0; i < Number(numWorkers); i++) {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const rtcPort = Number(rtcBasePort) + i;
  const server = await worker.createWebRtcServer({
    listenInfos: [
      { protocol: 'udp', ip: '127.0.0.1', port: rtcPort },
      { protocol: 'tcp', ip: '127.0.0.1', port: rtcPort },
    ],
  });
  workers.push({ worker, server, routers: 0 });
}
const rooms = new Map<string, Promise<{ router: types.Router; server: types.WebRtcServer }>>();

function room(id: string): Promise<{ router: types.Router; server: types.WebRtcServer }> {
  let pending = rooms.get(id);
  if (!pending) {
    const entry = workers.reduce((a, b) => (b.routers < a.routers ? b : a));
    entry.routers++;
    pending = entry.worker.createRouter({ mediaCodecs: SFU_CODECS }).then((router) => ({ router, server: entry.server }));
    rooms.set(id, pending);
  }
  return pending;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port) });
wss.on('connection', async (ws, req) => {
  const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? '';
  let claims: { room: string; sub: string };
  try {
    claims = jwt.verify(token, secret, { algorithms: ['HS256'] }) as { room: string; sub: string };
  } catch {
    ws.close(4401, 'UNAUTHORIZED');
    return;
  }
  const { router, server } = await room(claims.room);
  const transports: types.WebRtcTransport[] = [];
  ws.on('close', () => {
    for (const t of transports) t.close();
  });
  ws.on('message', async (raw) => {
    const { id, method } = JSON.parse(raw.toString()) as { id: number; method: string };
    if (method === 'createTransport') {
      const t = await router.createWebRtcTransport({ webRtcServer: server, enableUdp: true, enableTcp: true, preferUdp: true });
      transports.push(t);
      ws.send(
        JSON.stringify({
          type: 'response',
          id,
          ok: true,
          data: { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters },
        }),
      );
    } else {
      ws.send(JSON.stringify({ type: 'response', id, ok: true, data: method === 'join' ? { participants: [] } : {} }));
    }
  });
  ws.send(
    JSON.stringify({
      type: 'notification',
      method: 'welcome',
      data: {
        participantId: claims.sub,
        identity: claims.sub,
        name: claims.sub,
        roomId: claims.room,
        routerRtpCapabilities: router.rtpCapabilities,
        grants: {},
      },
    }),
  );
});
wss.on('listening', () => console.log('listening'));
process.on('SIGTERM', () => {
  wss.close();
  for (const { worker } of workers) worker.close();
  process.exit(0);
});
