// What `Room.prepareConnection()` does before the user is "in the room" (a waiting room previewing the
// camera): open the authenticated signaling socket and load the mediasoup Device with the welcome's
// router capabilities. The media server announces a participant to the others only on `join`, so an
// open, welcomed socket is invisible to the room; `connect()` then starts at the transports.
import { deviceFor, preloadDevice, type DevicePreload } from '../track/device-preload.js';
import type { NotificationMessage, ServerNotifications } from '../protocol/messages.js';
import { SignalClient } from '../signaling/SignalClient.js';

type Welcome = ServerNotifications['welcome'];

export interface PrepareConnectionOptions {
  /**
   * Also open the signaling socket (default true). False only loads the Device, and only when an
   * earlier join left the router capabilities in localStorage.
   */
  openSocket?: boolean;
}

/** A prepared socket handed over to `connect()`: its welcome and what arrived after it. */
export interface AdoptedConnection {
  signal: SignalClient;
  welcome: Welcome;
  preload: DevicePreload | undefined;
  /** Notifications received between the welcome and `connect()`, oldest first. */
  held: NotificationMessage[];
}

export class PreparedConnection {
  readonly url: string;
  readonly token: string;
  readonly #preload: DevicePreload | undefined;
  readonly #signal: SignalClient | undefined;
  readonly #welcome: Promise<{ welcome: Welcome; preload: DevicePreload } | undefined>;
  readonly #held: NotificationMessage[] = [];
  #lost = false;
  #closed = false;
  readonly #onNotification = (message: NotificationMessage): void => void this.#held.push(message);
  readonly #onClose = (): void => {
    this.#lost = true;
  };

  constructor(url: string, token: string, signalTimeoutMs: number, options: PrepareConnectionOptions = {}) {
    this.url = url;
    this.token = token;
    if (options.openSocket === false) {
      this.#preload = preloadDevice();
      this.#welcome = Promise.resolve(undefined);
      return;
    }
    const signal = new SignalClient({ timeoutMs: signalTimeoutMs });
    this.#signal = signal;
    signal.on('notification', this.#onNotification);
    signal.on('close', this.#onClose);
    // The socket first, then the Device preload (CPU) while it opens: see Room.connect.
    const welcomed = signal.connect(url, token);
    this.#preload = preloadDevice();
    this.#welcome = welcomed.then(
      (welcome) => {
        const capabilities = welcome.routerRtpCapabilities;
        const device = deviceFor(capabilities as Parameters<typeof deviceFor>[0], this.#preload);
        device.catch(() => undefined);
        return { welcome, preload: { capabilities: JSON.stringify(capabilities), device } };
      },
      () => {
        this.#lost = true;
        return undefined;
      },
    );
  }

  /** Resolves once the socket is welcomed and the Device loads (or either failed): true when `connect()` can use them. */
  async ready(): Promise<boolean> {
    const opened = await this.#welcome;
    if (!opened) return this.#signal === undefined && this.#preload !== undefined;
    const device = await opened.preload.device.then(
      () => true,
      () => false,
    );
    return device && !this.#lost && !this.#closed;
  }

  /** For `connect()`: the Device preload (cached capabilities only) when no socket was opened. */
  get devicePreload(): DevicePreload | undefined {
    return this.#preload;
  }

  /**
   * Hands the welcomed socket over to `connect()`, or undefined when it failed or was lost (the cold
   * path then opens a new one). The connection is spent either way.
   */
  async adopt(): Promise<AdoptedConnection | undefined> {
    const opened = await this.#welcome;
    const signal = this.#signal;
    if (!signal || !opened || this.#lost || this.#closed || !signal.connected) {
      this.close();
      return undefined;
    }
    this.#closed = true;
    signal.off('notification', this.#onNotification);
    signal.off('close', this.#onClose);
    return { signal, welcome: opened.welcome, preload: opened.preload, held: this.#held.splice(0) };
  }

  /** Closes the socket if it was not adopted. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.close();
  }
}
