// Can this browser make calls? Checked before anything else in Room.connect so an unsupported
// browser gets a typed UnsupportedBrowserError with a useful message instead of a ReferenceError
// from deep inside mediasoup-client (WebKitGTK without WebRTC gets the Safari12 handler, then
// fails on the missing RTCPeerConnection). Device access is reported separately: a waiting room
// can still preview the camera and show the microphone level where getUserMedia exists.
import { detectDevice } from 'mediasoup-client';
import { UnsupportedBrowserError } from './errors.js';

/** mediasoup-client handlers this SDK works with; anything else (or none) is too old or unknown. */
const SUPPORTED_HANDLERS = ['Chrome111', 'Chrome74', 'Firefox120', 'Safari12'] as const;

/** What to tell people whose browser cannot make calls. */
export const SUPPORTED_BROWSERS_HINT = 'use a current Chrome, Edge or Firefox (120 or later), or Safari (12.1 or later)';

export interface BrowserSupport {
  /** Calls work: WebRTC with unified-plan transceivers and a known mediasoup-client handler. */
  readonly calls: boolean;
  /** getUserMedia exists: a camera preview and microphone level work, with or without calls. */
  readonly devices: boolean;
  /** getDisplayMedia exists (it may still need a user gesture). */
  readonly screenShare: boolean;
  /** The mediasoup-client handler for this browser, e.g. `Firefox120`, when there is one. */
  readonly handler: string | undefined;
  /** What is missing for calls, in words; empty when `calls` is true. */
  readonly missing: readonly string[];
}

/** Inspects the current browser without side effects. */
export function checkBrowserSupport(): BrowserSupport {
  const missing: string[] = [];
  const peerConnection = typeof RTCPeerConnection === 'function' ? RTCPeerConnection : undefined;
  if (!peerConnection) missing.push('WebRTC (RTCPeerConnection)');
  else if (typeof peerConnection.prototype.addTransceiver !== 'function' || typeof RTCRtpTransceiver === 'undefined')
    missing.push('WebRTC transceivers (RTCRtpTransceiver)');
  if (typeof WebSocket !== 'function') missing.push('WebSocket');
  const handler = typeof navigator === 'object' ? detectHandler() : undefined;
  if (!handler || !(SUPPORTED_HANDLERS as readonly string[]).includes(handler)) {
    missing.push(`a supported browser version (${typeof navigator === 'object' ? navigator.userAgent : 'no navigator'})`);
  }
  const media = typeof navigator === 'object' ? navigator.mediaDevices : undefined;
  return {
    calls: missing.length === 0,
    devices: typeof media?.getUserMedia === 'function',
    screenShare: typeof media?.getDisplayMedia === 'function',
    handler,
    missing,
  };
}

/** Throws {@link UnsupportedBrowserError} unless this browser can make calls. */
export function assertCallsSupported(): void {
  const support = checkBrowserSupport();
  if (support.calls) return;
  throw new UnsupportedBrowserError(`this browser cannot make calls: it lacks ${support.missing.join(', ')}; ${SUPPORTED_BROWSERS_HINT}`, support.missing);
}

function detectHandler(): string | undefined {
  try {
    return detectDevice();
  } catch {
    return undefined;
  }
}
