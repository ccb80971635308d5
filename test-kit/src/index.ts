export { MIN_WAIT_MS, waitFor, type WaitOptions } from './wait.js';
