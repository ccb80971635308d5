import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  body: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * A real HTTP endpoint on loopback that records every webhook POSTed to it. `answer` picks each
 * response's status (default 200): a test makes it fail to see retries.
 */
export async function startWebhookReceiver(): Promise<{
  url: string;
  received: ReceivedWebhook[];
  answer: (status: (request: ReceivedWebhook) => number) => void;
  close(): Promise<void>;
}> {
  const received: ReceivedWebhook[] = [];
  let status: (request: ReceivedWebhook) => number = () => 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { body: Buffer.concat(chunks).toString('utf8'), headers: req.headers };
      received.push(request);
      res.writeHead(status(request)).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    answer: (next) => {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
