// The load-test-only media path: bots carry media over PlainTransports with SRTP instead of a
// browser's WebRTC stack, so one machine can drive hundreds of tracks through the real signaling,
// tokens and room logic. Only a room token with the `loadTest` grant may use it.
import type { types } from 'mediasoup';
import type { SignalingRequests } from '@telemed/sdk/protocol';
import { MediaServerError } from '../errors.js';
import type { Peer } from '../Peer.js';
import type { Room } from '../Room.js';
import type { PooledWorker } from '../WorkerPool.js';

/** The SRTP suite browsers negotiate with mediasoup 3.12.16: load tests pay the same crypto cost. */
export const LOAD_TEST_SRTP_CRYPTO_SUITE = 'AEAD_AES_256_GCM';

export type LoadTestMethod = 'createPlainTransport' | 'connectPlainTransport';

export type LoadTestHandlers = {
  [M in LoadTestMethod]: (data: SignalingRequests[M]['request']) => Promise<SignalingRequests[M]['response']>;
};

export interface LoadTestContext {
  peer: Peer;
  room: Room;
  /** The worker of the session; its WebRtcServer's listen IP is reused for plain transports. */
  worker: PooledWorker;
}

interface PlainTransportAppData extends types.AppData {
  peerId: string;
  direction: 'send' | 'recv';
  loadTest: true;
  /** The room's router it is on (a room past its consumer budget spans workers). */
  workerIndex: number;
}

/** Handlers for the load-test signaling methods; every one refuses a token without the grant. */
export function createLoadTestHandlers({ peer, room, worker }: LoadTestContext): LoadTestHandlers {
  const listenIps = new Map<types.WebRtcServer, string>();
  const listenIpOf = async (webRtcServer: types.WebRtcServer): Promise<string> => {
    const ip = (await webRtcServer.dump()).udpSockets[0]?.ip ?? '127.0.0.1';
    listenIps.set(webRtcServer, ip);
    return ip;
  };
  const requireGrant = (): void => {
    if (peer.grants.loadTest !== true) throw MediaServerError.forbidden('this token has no load-test grant');
  };
  const plainTransport = (transportId: string): types.PlainTransport<PlainTransportAppData> => {
    const transport = peer.transport(transportId) as unknown as types.Transport;
    if (transport.appData.loadTest !== true) throw MediaServerError.badRequest(`transport ${transportId} is not a load-test plain transport`);
    return transport as types.PlainTransport<PlainTransportAppData>;
  };

  return {
    createPlainTransport: async ({ direction }) => {
      requireGrant();
      if (peer.state === 'closed') throw MediaServerError.invalidState('session closed');
      if ([...peer.transports.values()].some((t) => t.appData.direction === direction)) {
        throw MediaServerError.invalidState(`a ${direction} transport exists already`);
      }
      if (direction === 'send' && !peer.grants.canPublish) throw MediaServerError.forbidden('this token may not publish');
      // The router the room assigned this participant, as for its WebRTC transports.
      const entry = room.routers.get(peer.workerIndex);
      const router = entry?.router ?? room.router;
      const webRtcServer = entry?.webRtcServer ?? worker.webRtcServer;
      const ip = listenIps.get(webRtcServer) ?? (await listenIpOf(webRtcServer));
      const transport = await router.createPlainTransport<PlainTransportAppData>({
        listenIp: { ip },
        rtcpMux: true,
        comedia: false,
        enableSrtp: true,
        srtpCryptoSuite: LOAD_TEST_SRTP_CRYPTO_SUITE,
        appData: { peerId: peer.id, direction, loadTest: true, workerIndex: entry?.workerIndex ?? peer.workerIndex },
      });
      // Room and Peer find transports by id and `appData.direction` and use only what every
      // transport has (produce, consume, close), so a plain transport joins the same map.
      peer.addTransport(transport as unknown as types.WebRtcTransport);
      const srtp = transport.srtpParameters;
      if (!srtp) throw new MediaServerError('INTERNAL', 'plain transport has no SRTP parameters');
      return {
        id: transport.id,
        ip: transport.tuple.localIp,
        port: transport.tuple.localPort,
        srtpParameters: { cryptoSuite: LOAD_TEST_SRTP_CRYPTO_SUITE, keyBase64: srtp.keyBase64 },
      };
    },
    connectPlainTransport: async ({ transportId, ip, port, srtpParameters }) => {
      requireGrant();
      await plainTransport(transportId).connect({ ip, port, srtpParameters });
      return {};
    },
  };
}
