import { describe, expect, it } from 'vitest';
import type { CallTimelineEntry } from '@telemed/sdk';
import { describeTimeline } from './call-timeline.js';

const step = (kind: string, detail: string | null = null, who: 'alice' | 'grey' = 'alice'): CallTimelineEntry => ({
  at: new Date().toISOString(),
  userId: who,
  displayName: who === 'alice' ? 'Alice Patient' : 'Dr. Meredith Grey',
  kind,
  detail,
});

describe('describeTimeline', () => {
  it('words the reconnections the media server reports, with how and how long', () => {
    const lines = describeTimeline([
      step('media_joined'),
      step('reconnected', JSON.stringify({ how: 'signaling', offlineMs: 5432 })),
      step('reconnected', JSON.stringify({ how: 'signaling', offlineMs: 7 })),
      step('reconnected', JSON.stringify({ how: 'ice', offlineMs: 4288, restarts: 4 }), 'grey'),
      step('reconnected', 'not json'),
    ]);
    expect(lines.map((l) => [l.kind, l.text])).toEqual([
      ['media_joined', 'Alice Patient joined the room'],
      ['reconnected', 'Alice Patient reconnected (signaling, 5.4 s offline)'],
      ['reconnected', 'Alice Patient reconnected (signaling, 7 ms offline)'],
      ['reconnected', 'Dr. Meredith Grey reconnected (ICE restart, media back after 4.3 s, 4 attempts)'],
      ['reconnected', 'Alice Patient reconnected'],
    ]);
  });

  it('reads a join after a lost connection or after the room closed under the participant (rebuilt) as a reconnection, not after leaving', () => {
    const lines = describeTimeline([
      step('media_joined'),
      step('media_left', 'disconnected'),
      step('media_joined'),
      step('media_left', 'room_closed'),
      step('media_joined'),
      step('media_left', 'left'),
      step('media_joined'),
    ]);
    expect(lines.map((l) => [l.kind, l.text])).toEqual([
      ['media_joined', 'Alice Patient joined the room'],
      ['media_left', 'Alice Patient lost the connection'],
      ['reconnected', 'Alice Patient reconnected (rejoined)'],
      ['media_left', 'Alice Patient left the room (room closed)'],
      ['reconnected', 'Alice Patient reconnected (room rebuilt)'],
      ['media_left', 'Alice Patient left the room'],
      ['rejoined', 'Alice Patient rejoined the room'],
    ]);
  });

  it('words a move to another media node, and reads the joins after it as reconnections', () => {
    const lines = describeTimeline([
      step('media_joined'),
      step('media_joined', null, 'grey'),
      { ...step('moved', JSON.stringify({ from: 'media-1', to: 'media-2', reason: 'node_lost' })), userId: null, displayName: null },
      step('media_joined', null, 'grey'),
      step('media_joined'),
    ]);
    expect(lines.map((l) => [l.kind, l.text])).toEqual([
      ['media_joined', 'Alice Patient joined the room'],
      ['media_joined', 'Dr. Meredith Grey joined the room'],
      ['moved', 'Call moved to another media node (media-1 lost → media-2)'],
      ['reconnected', 'Dr. Meredith Grey reconnected (call moved)'],
      ['reconnected', 'Alice Patient reconnected (call moved)'],
    ]);
  });
});
