import http from 'node:http';
import fc from 'fast-check';
import { operationsOf, requestsFor, type Credential, type FuzzRequest, type Operation } from './requests.js';
import { ResponseChecker, type Answer } from './response-check.js';
import { idKindOf, type Pools } from './schema-arbitrary.js';

export interface FuzzOptions {
  baseUrl: string;
  /** The served OpenAPI document. */
  document: { paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>> };
  seed: number;
  /** The run stops generating after this long. */
  budgetMs: number;
  /** The Authorization header for a credential and body, or none. */
  authorization(credential: Credential, body: Buffer | undefined): string | undefined;
  pools: Pools;
  maxUploadBytes: number;
  /** 5xx statuses an operation may answer by design (`METHOD /path` → statuses). */
  allowed5xx?: Record<string, number[]>;
  /** The error the server logged for the last 5xx (read and cleared after each request): it tells findings apart. */
  takeServerError?: () => string | undefined;
}

export interface Finding {
  operation: string;
  problem: string;
  /** How many requests had this problem. */
  count: number;
  /** The first request that had it. */
  example: { url: string; credential: Credential; variant: string; contentType?: string; body?: string; answer: string };
  /** What the server logged for it. */
  serverError?: string;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  seconds: number;
  findings: Finding[];
  /** Requests per answered status, e.g. { 200: 812, 422: 1530 }. */
  statuses: Record<number, number>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const POOL_LIMIT = 300;

/** Remembers ids, cursors and message ids the server answered with (to `path`), so later requests can name real records. */
function harvest(value: unknown, pools: Pools, path: string, key = ''): void {
  if (typeof value === 'string') {
    const kind = UUID.test(value) ? idKindOf(key, path) : undefined;
    const pool = kind && pools.ids[kind];
    if (pool && !pool.includes(value) && pool.length < POOL_LIMIT) pool.push(value);
    if (key === 'nextCursor' && !pools.cursors.includes(value) && pools.cursors.length < POOL_LIMIT) pools.cursors.push(value);
  } else if (typeof value === 'number') {
    if (key === 'id' && Number.isSafeInteger(value) && !pools.integers.includes(value) && pools.integers.length < POOL_LIMIT) pools.integers.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) harvest(item, pools, path, key);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) harvest(v, pools, path, k);
  }
}

const preview = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

/**
 * One request on its own connection (node:http, not fetch): the path goes out exactly as generated
 * (fetch would normalise `%2e%2e`), and no keep-alive race (the server closing an idle connection as
 * the next request goes out) can pass for a server fault.
 */
function send(baseUrl: string, request: FuzzRequest, authorization: string | undefined): Promise<Answer> {
  const headers: Record<string, string | number> = { connection: 'close' };
  if (authorization) headers.authorization = authorization;
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const body = request.body !== undefined && request.method !== 'GET' ? request.body : undefined;
  if (body) headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    let answered: (() => void) | undefined;
    const req = http.request(`${baseUrl}${request.url}`, { method: request.method, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      answered = () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', answered);
      res.on('error', answered);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    // A server that answers a too-large body early may close before taking the rest: the answer counts.
    req.on('error', (error) => (answered ? answered() : reject(error)));
    req.end(body);
  });
}

/**
 * Sends generated requests for every operation of the document until the budget is spent, and
 * reports every answer that breaks the contract. fast-check generates the requests from the seed
 * (the same seed sends the same requests, but for ids the server generated).
 */
export async function fuzzOpenApi(options: FuzzOptions): Promise<FuzzReport> {
  const operations = operationsOf(options.document);
  const checker = new ResponseChecker(options.allowed5xx);
  const byName = new Map(operations.map((op) => [`${op.method} ${op.path}`, op]));
  // A login hashes a password (about a second on a busy machine): fewer of those, more of everything else.
  const arbitrary = fc.oneof(
    ...operations.map((op) => ({
      weight: op.path === '/api/auth/login' ? 1 : 5,
      arbitrary: requestsFor(op, { pools: options.pools, maxUploadBytes: options.maxUploadBytes }),
    })),
  );
  const findings = new Map<string, Finding>();
  const statuses: Record<number, number> = {};
  let requests = 0;
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (request) => {
      const op = byName.get(request.operation)!;
      requests++;
      let problem: string | undefined;
      let answerText = '';
      try {
        const answer = await send(options.baseUrl, request, options.authorization(request.credential, request.body));
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        answerText = `${answer.status} ${preview(answer.text)}`;
        problem = checker.problem(op, answer);
        if (answer.status < 300 && answer.contentType.startsWith('application/json')) harvest(JSON.parse(answer.text), options.pools, op.path);
      } catch (error) {
        const cause = (error as { code?: string }).code;
        problem = `no answer: ${(error as Error).message}${cause ? ` (${cause})` : ''}`;
      }

      const serverError = options.takeServerError?.();
      if (problem) {
        const key = `${request.operation} | ${problem.replace(/\d+/g, 'N').slice(0, 120)} | ${(serverError ?? '').replace(/"[^"]*"|\d+/g, 'N')}`;
        const known = findings.get(key);
        if (known) known.count++;
        else {
          findings.set(key, {
            operation: request.operation,
            problem,
            count: 1,
            ...(serverError ? { serverError } : {}),
            example: {
              url: preview(request.url),
              credential: request.credential,
              variant: request.variant,
              answer: answerText,
              ...(request.contentType !== undefined ? { contentType: request.contentType } : {}),
              ...(request.body !== undefined ? { body: preview(request.body.toString('utf8')) } : {}),
            },
          });
        }
      }
      return true; // findings are collected and reported together, not shrunk one by one
    }),
    { seed: options.seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: options.budgetMs, markInterruptAsFailure: false, endOnFailure: true },
  );
  return { seed: options.seed, requests, seconds: Math.round((Date.now() - started) / 1000), findings: [...findings.values()], statuses };
}
