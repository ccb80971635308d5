import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_TEXT_PATTERN, INT4, REAL_MAX } from '../http/input.schema.js';
import { client, login, startTestApp, type TestApp } from '../testing/test-app.js';

interface OpenApiDoc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { 'x-access': unknown; parameters: Array<{ name: string; in: string }>; responses: Record<string, unknown>; requestBody?: unknown }>
  >;
}

describe('OpenAPI document and metrics', () => {
  let t: TestApp;
  /** The served document, fetched once. */
  let served: Record<string, unknown>;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    served = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as Record<string, unknown>;
  });
  afterAll(async () => t?.close());

  it('describes exactly the routes the router serves, with their parameters and who may call them', async () => {
    const res = await fetch(`${t.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDoc;
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    // The real router's layers (not the spec list): every served method+path, in OpenAPI syntax.
    const served = t.app.routes.router.stack
      .flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`))
      .sort();
    expect(documented).toEqual(served);
    expect(documented.length).toBeGreaterThan(25);
    for (const [path, ops] of Object.entries(doc.paths)) {
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        expect(
          op.parameters.filter((p) => p.in === 'path').map((p) => p.name),
          `${method} ${path}`,
        ).toEqual(pathParams);
        expect(op['x-access'], `${method} ${path}`).toBeDefined();
      }
    }
    const send = doc.paths['/api/conversations/{id}/messages']!.post!;
    expect(send.requestBody).toMatchObject({
      content: { 'application/json': { schema: { properties: { clientId: { format: 'uuid' }, body: { maxLength: 4000 } } } } },
    });
    expect(send.responses['201']).toBeDefined();
    expect(doc.paths['/api/admin/calls']!.get!['x-access']).toEqual(['admin']);
    expect(doc.paths['/metrics']!.get!['x-access']).toBe('metrics-scraper');
    expect(doc.paths['/api/admin/health']!.get!['x-access']).toEqual(['admin']);
    expect(doc.paths['/health']!.get!['x-access']).toBe('public');
  });

  it('is a valid OpenAPI 3.1 document for two independent validators, with shared components and tags', async () => {
    const doc = structuredClone(served);
    const text = JSON.stringify(doc);
    // Every reference resolves from the document root; shared schemas and error answers are components.
    expect(text).not.toContain('#/$defs/');
    const components = doc.components as { schemas: Record<string, unknown>; responses: Record<string, unknown> };
    expect(Object.keys(components.schemas)).toEqual(expect.arrayContaining(['User', 'Session', 'Call', 'RoomAccess', 'Message', 'ErrorBody']));
    expect(Object.keys(components.responses)).toEqual(expect.arrayContaining(['Unauthorized', 'NotFound', 'ValidationFailed', 'Error']));
    for (const ref of text.matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g))
      expect(components[ref[1] as 'schemas'], ref[0]).toHaveProperty([ref[2]!]);
    console.log(`[openapi] ${text.length} bytes, ${Object.keys(components.schemas).length} shared schemas`);
    // A budget against repeated bodies (the document was ~295 KB before components): ~1.5 KB per route is what it grows by.
    expect(text.length).toBeLessThan(165_000);
    expect((doc.tags as Array<{ name: string; description: string }>).map((tag) => tag.name)).toEqual(
      expect.arrayContaining(['auth', 'calls', 'messaging', 'ops']),
    );
    // Non-JSON answers are described as what they are.
    const paths = doc.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
    expect(Object.keys(paths['/metrics']!.get!.responses['200']!.content!)).toEqual(['text/plain']);
    expect(Object.keys(paths['/api/attachments/{id}']!.get!.responses['200']!.content!)).toContain('application/pdf');

    // Two validators written independently of each other and of us.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    // And they do catch what the document used to have: a reference to a root $defs it lacked.
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    broken.paths['/live']!.get!.responses['200'] = { description: 'OK', content: { 'application/json': { schema: { $ref: '#/$defs/User' } } } };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });

  it('generates a typed client with openapi-typescript that compiles under tsc --strict', async () => {
    const doc = structuredClone(served);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-openapi-'));
    try {
      fs.writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(doc as never)));
      // A client a developer would write against the generated types; wrong field names fail to compile.
      fs.writeFileSync(
        path.join(dir, 'use.ts'),
        [
          "import type { components, paths } from './api.js';",
          "type Call = components['schemas']['Call'];",
          "type Login = paths['/api/auth/login']['post']['requestBody']['content']['application/json'];",
          "type Join = paths['/api/calls/{id}/join']['post']['responses']['200']['content']['application/json'];",
          "type Failure = components['responses']['NotFound']['content']['application/json'];",
          "export const login: Login = { email: 'a@b.c', password: 'x' };",
          "export const describe = (call: Call, join: Join, failure: Failure): string => `${call.status} ${join.call.id} ${join.access?.token ?? 'lobby'} ${failure.error.code}`;",
          '',
        ].join('\n'),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      await promisify(execFile)(
        process.execPath,
        [
          tsc,
          '--strict',
          '--noEmit',
          '--target',
          'ES2022',
          '--module',
          'NodeNext',
          '--moduleResolution',
          'NodeNext',
          '--skipLibCheck',
          'false',
          path.join(dir, 'use.ts'),
        ],
        { cwd: dir },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('states the bounds the database columns have: lengths, text without NUL, integer and real ranges, times, cursor and uuid formats', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as Record<string, unknown>;
    const at = (...path: string[]): Record<string, unknown> => path.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, doc);
    const body = (path: string, method = 'post', type = 'application/json') => at('paths', path, method, 'requestBody', 'content', type, 'schema');
    const sample = at(
      'paths',
      '/api/calls/{id}/quality',
      'post',
      'requestBody',
      'content',
      'application/json',
      'schema',
      'properties',
      'samples',
      'items',
      'properties',
    );
    expect(sample.trackId).toMatchObject({ type: 'string', minLength: 1, maxLength: 128, pattern: DB_TEXT_PATTERN.source });
    expect(sample.packetsLost).toMatchObject({ type: 'integer', minimum: 0, maximum: INT4.max });
    expect(sample.bitrateBps).toMatchObject({ type: 'number', minimum: 0, maximum: REAL_MAX });
    expect(sample.frameWidth).toMatchObject({ anyOf: [{ type: 'integer', minimum: 0, maximum: INT4.max }, { type: 'null' }] });
    expect(sample.sampledAt).toMatchObject({
      type: 'string',
      format: 'date-time',
      description: expect.stringContaining('0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z'),
    });
    expect((body('/api/conversations').properties as Record<string, unknown>).title).toMatchObject({ maxLength: 120, pattern: DB_TEXT_PATTERN.source });
    const history = at('paths', '/api/calls', 'get').parameters as Array<{ name: string; schema: unknown }>;
    expect(history.find((p) => p.name === 'cursor')?.schema).toMatchObject({ type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });
    expect(history.find((p) => p.name === 'participantId')?.schema).toMatchObject({ format: 'uuid' });
    // The routes that read their own bodies describe them too.
    const batch = body('/internal/media-events');
    expect(at('paths', '/internal/media-events', 'post', 'requestBody', 'content', 'application/json', 'schema', 'properties', 'node')).toMatchObject({
      maxLength: 128,
    });
    expect(batch.required).toEqual(['node', 'events']);
    expect(body('/api/conversations/{id}/attachments', 'post', 'multipart/form-data')).toMatchObject({
      properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
      required: ['file'],
    });
  });

  it('exposes Prometheus metrics: requests by route, websockets, database pool', async () => {
    const session = await login(t.url, 'alice');
    await client(t.url, session.accessToken).get('/api/conversations');
    await client(t.url, session.accessToken).get('/api/calls/00000000-0000-4000-8000-000000000000');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/telemed_api_http_requests_total\{method="GET",route="\/api\/conversations",status="200"\} 1/);
    expect(text).toMatch(/telemed_api_http_requests_total\{method="GET",route="\/api\/calls\/:id",status="404"\} 1/);
    expect(text).toMatch(/telemed_api_http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/api\/auth\/login"\}/);
    expect(text).toContain('telemed_api_websockets_active 0');
    expect(text).toMatch(/telemed_api_db_pool_connections\{state="total"\} 1/);
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
  });
});
