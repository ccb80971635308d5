import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envFlag, envList, envText, parseConfigWith, readEnv } from './env-config.js';

describe('readEnv', () => {
  const sources = { port: 'PORT', origins: envList('ORIGINS'), secure: envFlag('SECURE'), mode: { variable: 'MODE', read: () => 'fixed' } };

  it('reads each field from its variable; empty and unset mean the default', () => {
    const { input } = readEnv({ PORT: '8080', ORIGINS: ' https://a.example , ,https://b.example', SECURE: 'true' }, sources);
    expect(input).toEqual({ port: '8080', origins: ['https://a.example', 'https://b.example'], secure: true, mode: 'fixed' });
    expect(readEnv({ PORT: '', SECURE: 'false' }, sources).input).toEqual({ port: undefined, origins: undefined, secure: false, mode: 'fixed' });
  });

  it('leaves a flag that is neither true nor false for the schema to refuse', () => {
    expect(readEnv({ SECURE: 'yes' }, sources).input.secure).toBe('yes');
  });

  it('names the variable behind a field', () => {
    const { variableOf } = readEnv({}, sources);
    expect([variableOf('port'), variableOf('origins'), variableOf('mode'), variableOf('toString')]).toEqual(['PORT', 'ORIGINS', 'MODE', undefined]);
    expect(envText({ A: '' }, 'A')).toBeUndefined();
  });
});

describe('parseConfigWith', () => {
  const schema = z.object({ port: z.coerce.number().int(), name: z.string().min(1, 'NAME must not be empty') });

  it('lists every problem, naming the variable unless the message does', () => {
    const { input, variableOf } = readEnv({ PORT: 'eighty', NAME: '' }, { port: 'PORT', name: 'NAME' });
    let error: unknown;
    try {
      parseConfigWith(schema, { ...input, name: '' }, { service: 'test', variableOf });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^PORT \(port\): /), 'name: NAME must not be empty']);
    expect((error as ConfigError).message).toMatch(/^invalid test configuration:\n {2}- PORT/);
  });

  it('returns the parsed configuration', () => {
    expect(parseConfigWith(schema, { port: '80', name: 'x' }, { service: 'test' })).toEqual({ port: 80, name: 'x' });
  });
});
