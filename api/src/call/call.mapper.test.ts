import { describe, expect, it } from 'vitest';
import { INT4 } from '../http/input.schema.js';
import { endStay, inMediaRoom, reconnectDetail } from './call.mapper.js';

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 9, 0, s));

describe("a participant's stays in the media room", () => {
  it('is in the room after a join with no later leave', () => {
    expect(inMediaRoom({ media_joined_at: at(0), media_left_at: null })).toBe(true);
    expect(inMediaRoom({ media_joined_at: at(10), media_left_at: at(5) })).toBe(true);
    expect(inMediaRoom({ media_joined_at: at(0), media_left_at: at(5) })).toBe(false);
    expect(inMediaRoom({ media_joined_at: null, media_left_at: null })).toBe(false);
  });

  it('adds the running stay to the closed ones when it ends, rounded to seconds', () => {
    expect(endStay({ media_joined_at: at(0), media_left_at: null, media_seconds: 30 }, new Date(at(12).getTime() + 600))).toEqual({
      media_left_at: new Date(at(12).getTime() + 600),
      media_seconds: 43,
    });
  });

  it('adds nothing for someone not in the room, or for a clock that runs backwards', () => {
    expect(endStay({ media_joined_at: at(0), media_left_at: at(5), media_seconds: 5 }, at(20)).media_seconds).toBe(5);
    expect(endStay({ media_joined_at: at(20), media_left_at: null, media_seconds: 5 }, at(10)).media_seconds).toBe(5);
  });

  it('never overflows the integer column', () => {
    expect(endStay({ media_joined_at: new Date(0), media_left_at: null, media_seconds: INT4.max - 1 }, at(0)).media_seconds).toBe(INT4.max);
  });

  it('describes a reconnect, with the restarts only for an ICE restart', () => {
    expect(JSON.parse(reconnectDetail({ how: 'ice', offlineMs: 800, restarts: 2 }))).toEqual({ how: 'ice', offlineMs: 800, restarts: 2 });
    expect(JSON.parse(reconnectDetail({ how: 'signaling', offlineMs: 3000, restarts: 0 }))).toEqual({ how: 'signaling', offlineMs: 3000 });
  });
});
