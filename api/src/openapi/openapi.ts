import { z } from 'zod';
import { ErrorBodySchema } from '../http/resource.schema.js';
import type { AnyRouteSpec } from '../http/route.js';

type JsonSchema = Record<string, unknown>;

const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
  void _drop;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Malformed request', '401': 'No or invalid access token', '403': 'The caller\'s role may not do this',
  '404': 'No such resource (or not visible to the caller)', '409': 'The resource is not in a state that allows this',
  '413': 'Body too large', '415': 'Wrong content type', '422': 'Validation failed (details name the fields)', '429': 'Rate limited',
};

const SECURITY = { 'media-server': 'mediaServerJwt', 'metrics-scraper': 'metricsToken' } as const;

/** The OpenAPI 3.1 document, generated from the same route specs and zod schemas that serve requests. */
export function buildOpenApi(specs: readonly AnyRouteSpec[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorResponse = { description: 'Error', content: { 'application/json': { schema: { type: 'object', properties: { error: jsonSchema(ErrorBodySchema, 'output') }, required: ['error'] } } } };
  for (const spec of specs) {
    const roles = Array.isArray(spec.access) ? spec.access : [];
    const responses: Record<string, JsonSchema> = {};
    const status = String(spec.response ? (spec.status ?? 200) : 204);
    responses[status] = spec.response
      ? { description: 'OK', content: { 'application/json': { schema: jsonSchema(spec.response, 'output') } } }
      : { description: 'No content' };
    for (const [code, description] of Object.entries(ERROR_STATUSES)) responses[code] = { ...errorResponse, description };
    const operation: JsonSchema = {
      operationId: `${spec.method}${toOpenApiPath(spec.path).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [spec.tag],
      summary: spec.summary,
      'x-access': typeof spec.access === 'string' ? spec.access : roles,
      parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
      responses,
      security: typeof spec.access !== 'string' ? [{ bearerAuth: [] }] : spec.access === 'public' ? [] : [{ [SECURITY[spec.access]]: [] }],
    };
    if (spec.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } };
    else if (spec.rawBody) {
      const schema = spec.rawBody.schema ? jsonSchema(spec.rawBody.schema, 'input') : {};
      operation.requestBody = { required: true, description: spec.rawBody.description, content: { [spec.rawBody.contentType]: { schema } } };
    }
    (paths[toOpenApiPath(spec.path)] ??= {})[spec.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Telemed API', version: info.version, description: 'Calls, messaging, presence and quality for the Telemed platform. Realtime events: WebSocket /events?access_token=…&after=<cursor>.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from /api/auth/login or /api/auth/refresh' },
        mediaServerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT signed with MEDIA_WEBHOOK_SECRET, with the body\'s SHA-256' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN; when it is not set, only loopback clients may call' },
      },
    },
  };
}
