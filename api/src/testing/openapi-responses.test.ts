// The response checker every API test relies on must itself refuse what the document does not
// allow: checked against the document the API serves, with answers made up to break each rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseChecker, type Document } from './openapi-responses.js';
import { login, startTestApp, type TestApp } from './test-app.js';

describe('the OpenAPI response checker', () => {
  let t: TestApp;
  let checker: ResponseChecker;
  let me: unknown;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    checker = new ResponseChecker((await (await fetch(`${t.url}/api/openapi.json`)).json()) as Document);
    me = (await login(t.url, 'alice')).user;
  });
  afterAll(async () => t?.close());

  it('passes a real answer and each documented error', () => {
    expect(() => checker.check('GET', '/api/users/me', 200, 'application/json; charset=utf-8', me)).not.toThrow();
    const error = { error: { code: 'UNAUTHORIZED', message: 'sign in' } };
    expect(() => checker.check('GET', '/api/users/me', 401, 'application/json', error)).not.toThrow();
    expect(() => checker.check('GET', '/api/nowhere', 404, 'application/json', { error: { code: 'NOT_FOUND', message: 'no route' } })).not.toThrow();
  });

  it('refuses a body the schema does not accept, a wrong content type, an undocumented operation and a body where none is documented', () => {
    expect(() => checker.check('GET', '/api/users/me', 200, 'application/json', { ...(me as object), role: 'pharaoh' })).toThrow(
      /GET \/api\/users\/me → 200: the body does not match the OpenAPI document/,
    );
    expect(() => checker.check('GET', '/api/users/me', 200, 'application/json', { id: 'u1' })).toThrow(/does not match/);
    expect(() => checker.check('GET', '/api/users/me', 200, 'text/html', '<p>me</p>')).toThrow(/content type text\/html is not documented/);
    expect(() => checker.check('GET', '/api/users/me', 401, 'application/json', { message: 'no' })).toThrow(/does not match/);
    expect(() => checker.check('DELETE', '/api/users/me', 200, 'application/json', {})).toThrow(/no such operation/);
    expect(() => checker.check('GET', '/api/nowhere', 200, 'application/json', {})).toThrow(/no such operation/);
    expect(() => checker.check('POST', '/api/auth/logout', 204, null, { ok: true })).toThrow(/documented without a body, got one/);
  });
});
