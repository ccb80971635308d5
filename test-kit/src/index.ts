export { freePortRange } from './ports.js';
export { roomToken, type TestRoomTokenOptions } from './room-token.js';
export { turnCredential, type TestTurnCredentialOptions } from './turn-credential.js';
export {
  BOT_SIGNALING,
  SignalingRefusedError,
  SignalingRequestError,
  TestSignalingClient,
  type SignalingConnectOptions,
  type SignalingFailure,
  type SocketClose,
} from './signaling-client.js';
export { MIN_WAIT_MS, WaitAborted, waitFor, type WaitOptions } from './wait.js';
