import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ApiError } from '../http/errors.js';

// Addresses a webhook must not reach unless WEBHOOK_ALLOW_PRIVATE_TARGETS: loopback, private,
// link-local (cloud metadata), carrier-grade NAT, unique-local, multicast, unspecified, reserved.
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** Whether an address is outside the private, loopback and reserved ranges (an IPv4-mapped IPv6 address is judged as IPv4). */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const family = isIP(ip);
  if (family === 0) return false;
  return !PRIVATE.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** A webhook URL's form: http(s), no credentials in it; https only unless private targets are allowed (tests, development). */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('VALIDATION_FAILED', 'url: not a URL');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) throw new ApiError('VALIDATION_FAILED', 'url: must be https');
  if (url.username || url.password) throw new ApiError('VALIDATION_FAILED', 'url: must not carry credentials (sign with the secret instead)');
  return url;
}

/** Refuses a host that is or resolves to a private address (at registration: the answer names the problem). */
export async function assertPublicHost(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new ApiError('VALIDATION_FAILED', `url: ${host} does not resolve`);
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress))
    throw new ApiError('VALIDATION_FAILED', 'url: resolves to a private, loopback or reserved address');
}

/**
 * The DNS lookup for delivery requests: the address the socket connects to is the one checked
 * (no window for a DNS answer that changes between the check and the connection).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as dns.LookupAddress[];
      const allowed = allowPrivate ? list : list.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0)
        return callback(Object.assign(new Error(`${hostname} resolves to a private, loopback or reserved address`), { code: 'EPRIVATETARGET' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
