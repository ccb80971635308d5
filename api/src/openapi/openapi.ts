import { z } from 'zod';
import { ErrorBodySchema } from '../http/resource.schema.js';
import { isApiKeyAccess, type AnyRouteSpec } from '../http/route.js';

type JsonSchema = Record<string, unknown>;

const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const SCHEMA_REF = '#/components/schemas/';

/**
 * Named schemas (zod `.meta({ id })`) become `components/schemas` entries that operations `$ref`.
 * zod puts them in a `$defs` beside the schema it converts; this moves them to the document's
 * components, so every reference resolves from the document root.
 */
class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  add(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
    const { $schema: _drop, $defs, ...rest } = json as JsonSchema & { $defs?: Record<string, JsonSchema> };
    void _drop;
    // An id whose input form differs from its output form (defaults, transforms) gets an `Input` twin.
    const names = new Map<string, string>();
    for (const [id, def] of Object.entries($defs ?? {})) {
      const existing = this.schemas[id];
      const name = !existing || JSON.stringify(existing) === JSON.stringify(def) ? id : `${id}Input`;
      names.set(id, name);
    }
    const relink = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(relink);
      if (!node || typeof node !== 'object') return node;
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => {
          if (key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/'))
            return [key, SCHEMA_REF + (names.get(value.slice(8)) ?? value.slice(8))];
          return [key, relink(value)];
        }),
      );
    };
    for (const [id, def] of Object.entries($defs ?? {})) {
      const name = names.get(id)!;
      const relinked = relink(def) as JsonSchema;
      const existing = this.schemas[name];
      if (existing && JSON.stringify(existing) !== JSON.stringify(relinked)) throw new Error(`two different schemas are both named ${name}`);
      this.schemas[name] = relinked;
    }
    return relink(rest) as JsonSchema;
  }
}

/** Shared error answers, referenced from every operation that can give them. */
const ERROR_RESPONSES = {
  BadRequest: ['400', 'Malformed request'],
  Unauthorized: ['401', 'No or invalid credentials'],
  Forbidden: ['403', 'The caller may not do this'],
  NotFound: ['404', 'No such resource (or not visible to the caller)'],
  Conflict: ['409', 'The resource is not in a state that allows this'],
  PayloadTooLarge: ['413', 'Body too large'],
  UnsupportedMediaType: ['415', 'Wrong content type'],
  ValidationFailed: ['422', 'Validation failed (details name the fields)'],
  RateLimited: ['429', 'Rate limited (Retry-After says when to retry)'],
  Error: ['default', 'Any other error (500 internal, 503 unavailable, ...), in the same error shape'],
} as const;
type ErrorResponse = keyof typeof ERROR_RESPONSES;

const TAGS: Record<string, string> = {
  auth: 'Sign-in, token refresh, the signed-in user',
  users: 'Users and contacts',
  calls: 'Calls: ring, schedule, join (room access), end, history and timelines',
  messaging: 'Conversations, messages and attachments',
  presence: 'Who is online, away or in a call',
  quality: 'Call quality samples from clients and the media server',
  admin: 'Administration: users, calls, audit',
  ops: 'Health, readiness, metrics and this document',
  internal: 'Called by the media server, not by apps',
  server: 'For third-party backends, with an API key (admins create them under /api/admin/api-keys)',
  recordings: 'Call recordings with consent: ask, consent or refuse, stop, list and download (ENABLE_CALL_RECORDING)',
};

const SECURITY = { 'media-server': 'mediaServerJwt', 'metrics-scraper': 'metricsToken' } as const;

const responseRef = (name: ErrorResponse) => ({ $ref: `#/components/responses/${name}` });

function errorResponsesOf(spec: AnyRouteSpec): ErrorResponse[] {
  const names: ErrorResponse[] = ['BadRequest'];
  if (spec.access !== 'public') names.push('Unauthorized', 'Forbidden');
  if (spec.params) names.push('NotFound');
  if (spec.method !== 'get') names.push('Conflict');
  if (spec.body || spec.rawBody) names.push('PayloadTooLarge', 'UnsupportedMediaType');
  if (spec.params || spec.query || spec.body || spec.rawBody) names.push('ValidationFailed');
  names.push('RateLimited', 'Error');
  return names;
}

function parameters(components: SchemaComponents, schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = components.add(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

function successResponses(components: SchemaComponents, spec: AnyRouteSpec): Record<string, JsonSchema> {
  if (spec.produces) {
    const content = Object.fromEntries(spec.produces.contentTypes.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]));
    return { [String(spec.status ?? 200)]: { description: spec.produces.description, content } };
  }
  if (!spec.response) return { '204': { description: 'No content' } };
  const content = { 'application/json': { schema: components.add(spec.response, 'output') } };
  const responses: Record<string, JsonSchema> = { [String(spec.status ?? 200)]: { description: 'OK', content } };
  for (const [status, description] of Object.entries(spec.alsoAnswers ?? {})) responses[status] = status === '204' ? { description } : { description, content };
  return responses;
}

/** The OpenAPI 3.1 document, generated from the same route specs and zod schemas that serve requests. */
export function buildOpenApi(specs: readonly AnyRouteSpec[], info: { version: string }): JsonSchema {
  const components = new SchemaComponents();
  components.schemas.ErrorBody = {
    type: 'object',
    properties: { error: components.add(ErrorBodySchema, 'output') },
    required: ['error'],
    additionalProperties: false,
  };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of specs) {
    const responses = successResponses(components, spec);
    for (const name of errorResponsesOf(spec)) responses[ERROR_RESPONSES[name][0]] = responseRef(name);
    const operation: JsonSchema = {
      operationId: `${spec.method}${toOpenApiPath(spec.path)
        .replace(/[{}]/g, '')
        .replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [spec.tag],
      summary: spec.summary,
      'x-access': spec.access,
      parameters: [...parameters(components, spec.params, 'path'), ...parameters(components, spec.query, 'query')],
      responses,
      security: isApiKeyAccess(spec.access)
        ? [{ apiKeyAuth: [] }]
        : typeof spec.access !== 'string'
          ? [{ bearerAuth: [] }]
          : spec.access === 'public'
            ? []
            : [{ [SECURITY[spec.access]]: [] }],
    };
    if (spec.body) operation.requestBody = { required: true, content: { 'application/json': { schema: components.add(spec.body, 'input') } } };
    else if (spec.rawBody) {
      const schema = spec.rawBody.schema ? components.add(spec.rawBody.schema, 'input') : {};
      operation.requestBody = { required: true, description: spec.rawBody.description, content: { [spec.rawBody.contentType]: { schema } } };
    }
    (paths[toOpenApiPath(spec.path)] ??= {})[spec.method] = operation;
  }
  const usedTags = [...new Set(specs.map((s) => s.tag))];
  const undescribed = usedTags.filter((tag) => !TAGS[tag]);
  if (undescribed.length > 0) throw new Error(`OpenAPI tags without a description: ${undescribed.join(', ')}`);
  const errorContent = { 'application/json': { schema: { $ref: `${SCHEMA_REF}ErrorBody` } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Telemed API',
      version: info.version,
      description: 'Calls, messaging, presence and quality for the Telemed platform. Realtime events: WebSocket /events?access_token=…&after=<cursor>.',
    },
    servers: [{ url: '/' }],
    tags: usedTags.map((name) => ({ name, description: TAGS[name] })),
    paths,
    components: {
      schemas: components.schemas,
      responses: Object.fromEntries(Object.entries(ERROR_RESPONSES).map(([name, [, description]]) => [name, { description, content: errorContent }])),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from /api/auth/login or /api/auth/refresh' },
        mediaServerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "HS256 JWT signed with MEDIA_WEBHOOK_SECRET, with the body's SHA-256",
        },
        apiKeyAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (tmk_…) from POST /api/admin/api-keys; each route names the scope it needs in x-access',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN; when it is not set, only loopback clients may call' },
      },
    },
  };
}
