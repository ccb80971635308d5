// The public SDK bundle (sdk/dist/telemed-sdk.browser.mjs) served on a free loopback port, for
// benchmark pages to import() the SDK exactly as an app's page would.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { ROOT } from './machine.js';

export interface SdkBundleServer {
  url: string;
  close(): void;
}

export async function serveSdkBundle(): Promise<SdkBundleServer> {
  const bundle = fs.readFileSync(path.join(ROOT, 'sdk', 'dist', 'telemed-sdk.browser.mjs'));
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' }).end(bundle));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/sdk.mjs`, close: () => server.close() };
}
