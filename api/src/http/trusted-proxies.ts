import { BlockList, isIP } from 'node:net';

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) → `10.0.0.1`. */
function normalize(address: string): string {
  const trimmed = address.trim();
  return trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

/** Why `entry` (an address or a CIDR range) is not one, or undefined. */
export function proxyEntryProblem(entry: string): string | undefined {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR range`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return `"${entry}": bad prefix length /${prefix}`;
  return undefined;
}

/**
 * The addresses whose `X-Forwarded-For` the API believes (TRUSTED_PROXIES). A request from anyone
 * else is named by its socket address, whatever headers it sends, so a client cannot pick the IP
 * that rate limits and the audit log see.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = proxyEntryProblem(entry);
      if (problem) throw new TypeError(`TRUSTED_PROXIES: ${problem}`);
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.#list.addAddress(address, type);
      else this.#list.addSubnet(address, Number(prefix), type);
    }
    this.#empty = entries.length === 0;
  }

  trusts(address: string): boolean {
    if (this.#empty) return false;
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the socket's, unless that is a trusted proxy; then the nearest address
   * in `X-Forwarded-For` (read from the right, the end our proxies appended) that is not one.
   */
  clientIp(socketAddress: string | undefined, forwardedFor: string | undefined): string {
    let client = normalize(socketAddress ?? '');
    if (!this.trusts(client) || !forwardedFor) return client;
    const hops = forwardedFor.split(',').map(normalize).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      // A malformed entry ends the chain: the last address we could trust names the request.
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.trusts(hop)) return hop;
    }
    return client;
  }
}
