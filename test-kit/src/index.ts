export { roomToken, type TestRoomTokenOptions } from './room-token.js';
export { MIN_WAIT_MS, waitFor, type WaitOptions } from './wait.js';
