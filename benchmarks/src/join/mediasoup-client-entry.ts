// Bundled for the baseline page (see bundle.ts): mediasoup-client alone, as the SDK's bundle has it.
export { Device } from 'mediasoup-client';
