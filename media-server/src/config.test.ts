import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.js';

const base = { ROOM_TOKEN_SECRET: 'room-token-secret-0123456789abc' };

describe('media server configuration from the environment', () => {
  it('reads API_INTERNAL_URL as one URL or several API instances separated by commas', () => {
    expect(configFromEnv({ ...base, API_INTERNAL_URL: 'http://api:3000' }).apiInternalUrl).toEqual(['http://api:3000']);
    expect(configFromEnv({ ...base, API_INTERNAL_URL: 'http://api-1:3000, http://api-2:3000,' }).apiInternalUrl).toEqual([
      'http://api-1:3000',
      'http://api-2:3000',
    ]);
    expect(configFromEnv(base).apiInternalUrl).toBeUndefined();
  });

  it('refuses an entry that is not a URL, naming the variable', () => {
    expect(() => configFromEnv({ ...base, API_INTERNAL_URL: 'http://api-1:3000,api-2' })).toThrow(/API_INTERNAL_URL/);
    expect(() => configFromEnv({ ...base, API_INTERNAL_URL: ' , ' })).toThrow(/API_INTERNAL_URL/);
  });

  it('reads CALL_END_WARNINGS as seconds before MAX_CALL_DURATION, comma-separated (default 300 and 60; `none` for none)', () => {
    expect(configFromEnv(base).callEndWarningsSec).toEqual([300, 60]);
    expect(configFromEnv({ ...base, CALL_END_WARNINGS: '600, 120,30' }).callEndWarningsSec).toEqual([600, 120, 30]);
    expect(configFromEnv({ ...base, CALL_END_WARNINGS: 'none' }).callEndWarningsSec).toEqual([]);
    expect(() => configFromEnv({ ...base, CALL_END_WARNINGS: '300,,60' })).toThrow(/CALL_END_WARNINGS/);
    expect(() => configFromEnv({ ...base, CALL_END_WARNINGS: '300,soon' })).toThrow(/CALL_END_WARNINGS/);
    expect(() => configFromEnv({ ...base, CALL_END_WARNINGS: '-5' })).toThrow(/CALL_END_WARNINGS/);
  });
});
