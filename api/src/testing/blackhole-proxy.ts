import net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

/**
 * A loopback TCP proxy whose links can go dead: `blackhole()` stops forwarding on every open link
 * in both directions without closing it, as a vanished NAT entry or a dead Wi-Fi would. New
 * connections are forwarded again.
 */
export class BlackholeProxy {
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  readonly #dead = new Set<Link>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<BlackholeProxy> {
    const server = net.createServer();
    const proxy = new BlackholeProxy(server);
    server.on('connection', (client) => {
      const upstream = net.connect(targetPort, targetHost);
      const link = { client, upstream };
      proxy.#links.add(link);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        proxy.#links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Links currently open (including dead ones). */
  get links(): number {
    return this.#links.size;
  }

  /** Every open link goes silent both ways; the sockets stay open and unread (closed by close()). */
  blackhole(): void {
    for (const link of this.#links) {
      const { client, upstream } = link;
      client.unpipe(upstream);
      upstream.unpipe(client);
      for (const socket of [client, upstream]) {
        socket.pause();
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        socket.on('error', () => {});
      }
      this.#dead.add(link);
    }
    this.#links.clear();
  }

  /** Closes the listener and every link, dead or alive (idempotent). */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    for (const { client, upstream } of [...this.#links, ...this.#dead]) {
      client.destroy();
      upstream.destroy();
    }
    this.#dead.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
