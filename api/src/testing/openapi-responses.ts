// Checks the answers tests get against the served OpenAPI document: a documented status, a
// documented content type and, for JSON, a body that the documented schema accepts (ajv, draft
// 2020-12 as OpenAPI 3.1 says). The test client helpers call it on every response.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export typed for ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface Operation {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
}
export interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
}

const DOC_ID = 'urn:telemed:openapi';
const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class ResponseChecker {
  readonly #doc: Document;
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #templates: Array<{ path: string; pattern: RegExp; params: number }>;

  constructor(doc: Document) {
    this.#doc = doc;
    addFormats(this.#ajv);
    this.#ajv.addSchema({ ...doc, $id: DOC_ID });
    // Literal paths before templated ones (/api/calls/history before /api/calls/{id}).
    this.#templates = Object.keys(doc.paths)
      .map((path) => ({
        path,
        pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
        params: (path.match(/\{/g) ?? []).length,
      }))
      .sort((a, b) => a.params - b.params);
  }

  /** Throws an Error that names the operation and what is wrong. */
  check(method: string, pathname: string, status: number, contentType: string | null, body: unknown): void {
    const what = `${method} ${pathname} → ${status}`;
    const template = this.#templates.find((t) => t.pattern.test(pathname) && this.#doc.paths[t.path]![method.toLowerCase()]);
    if (!template) {
      // An undocumented route may only answer with the error shape (the router's 404 and 405).
      if (status === 404 || status === 405) return this.#validate(what, `${DOC_ID}#/components/schemas/ErrorBody`, body);
      throw new Error(`${what}: no such operation in the OpenAPI document`);
    }
    const m = method.toLowerCase();
    const responses = this.#doc.paths[template.path]![m]!.responses;
    const key = String(status) in responses ? String(status) : 'default';
    let response = responses[key];
    let at = `${DOC_ID}#/${pointer('paths', template.path, m, 'responses', key)}`;
    if (!response) throw new Error(`${what}: the document lists no such status (${Object.keys(responses).join(', ')})`);
    if (response.$ref) {
      at = `${DOC_ID}${response.$ref}`;
      response = this.#doc.components.responses[response.$ref.split('/').pop()!]!;
    }
    if (!response.content) {
      if (body !== undefined) throw new Error(`${what}: documented without a body, got one`);
      return;
    }
    const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(type in response.content))
      throw new Error(`${what}: content type ${type || '(none)'} is not documented (${Object.keys(response.content).join(', ')})`);
    if (type === 'application/json') this.#validate(what, `${at}/content/${pointer(type)}/schema`, body);
  }

  #validate(what: string, ref: string, body: unknown): void {
    let validate = this.#validators.get(ref);
    if (!validate) this.#validators.set(ref, (validate = this.#ajv.compile({ $ref: ref })));
    if (!validate(body))
      throw new Error(`${what}: the body does not match the OpenAPI document: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}

const checkers = new Map<string, Promise<ResponseChecker>>();
/** The fetch this module found, before checkEveryResponseFrom wrapped it. */
const unchecked = globalThis.fetch;
/** The development call page's token route (dev-room-token.controller.ts): loopback only, outside the API's contract and its document. */
const DEVELOPMENT_ONLY = '/api/dev/';
/** Origins of APIs whose every answer to fetch() is checked. */
const checkedOrigins = new Set<string>();

/** The checker for the API at `baseUrl`, built once from the document that API serves. */
function checkerFor(baseUrl: string): Promise<ResponseChecker> {
  let checker = checkers.get(baseUrl);
  if (!checker) {
    checker = unchecked(`${baseUrl}/api/openapi.json`).then(async (res) => {
      if (res.status !== 200) throw new Error(`GET /api/openapi.json answered ${res.status}`);
      return new ResponseChecker((await res.json()) as Document);
    });
    checker.catch(() => checkers.delete(baseUrl));
    checkers.set(baseUrl, checker);
  }
  return checker;
}

/**
 * From now on every fetch() in this process to the API at `baseUrl` is checked against its OpenAPI
 * document, whichever helper or test made it: the answer's promise rejects, naming the operation,
 * when it does not match. CORS preflights (OPTIONS) are HTTP's, not operations, and pass unchecked,
 * as does the development-only token route.
 */
export function checkEveryResponseFrom(baseUrl: string): void {
  checkedOrigins.add(new URL(baseUrl).origin);
  if (globalThis.fetch !== unchecked) return;
  globalThis.fetch = async (input, init) => {
    const res = await unchecked(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (!checkedOrigins.has(url.origin) || method === 'OPTIONS' || url.pathname.startsWith(DEVELOPMENT_ONLY)) return res;
    const text = await res.clone().text();
    const json = text && res.headers.get('content-type')?.startsWith('application/json');
    await checkResponse(url.origin, method, url.pathname, res, json ? (JSON.parse(text) as unknown) : text || undefined);
    return res;
  };
}

/** Checks one answer from the API at `baseUrl` against its OpenAPI document; throws when it does not match. */
async function checkResponse(baseUrl: string, method: string, path: string, res: { status: number; headers: Headers }, body: unknown): Promise<void> {
  const checker = await checkerFor(baseUrl);
  checker.check(method, new URL(path, baseUrl).pathname, res.status, res.headers.get('content-type'), body);
}

/**
 * The document with every `#/components/...` reference replaced by what it names, for tools that
 * take one operation's schemas on their own (the fuzzer). Our schemas have no cycles.
 */
export function dereference<T>(doc: T): T {
  const root = doc as Record<string, unknown>;
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!node || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/')) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((at, key) => (at as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')], root);
      if (target === undefined) throw new Error(`unresolved reference ${ref}`);
      return resolve(target);
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value)]));
  };
  return resolve(doc) as T;
}
