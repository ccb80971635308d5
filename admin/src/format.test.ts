import { describe, expect, it } from 'vitest';
import { participantDirection } from './format.js';

describe('participantDirection', () => {
  it("names the participant's side: the SFU receives what they send, their browser receives what they get", () => {
    expect(participantDirection({ source: 'server', direction: 'in' })).toBe('send');
    expect(participantDirection({ source: 'server', direction: 'out' })).toBe('receive');
    expect(participantDirection({ source: 'client', direction: 'out' })).toBe('send');
    expect(participantDirection({ source: 'client', direction: 'in' })).toBe('receive');
  });
});
