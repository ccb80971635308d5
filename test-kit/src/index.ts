export { roomToken, type TestRoomTokenOptions } from './room-token.js';
export { SignalingRefusedError, TestSignalingClient, type SignalingConnectOptions, type SignalingFailure, type SocketClose } from './signaling-client.js';
export { MIN_WAIT_MS, waitFor, type WaitOptions } from './wait.js';
