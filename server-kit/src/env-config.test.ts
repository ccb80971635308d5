import { describe, expect, it } from 'vitest';
import { envFlag, envList, envText, readEnv } from './env-config.js';

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
