import { describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from './TypedEmitter.js';

type Events = { joined: [string, number]; left: [] };

class Emitter extends TypedEmitter<Events> {
  fire<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    return this.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  it('delivers typed arguments, once listeners fire once, off removes', () => {
    const emitter = new Emitter();
    const seen: string[] = [];
    const onJoined = (name: string, n: number): void => void seen.push(`${name}:${n}`);
    emitter.on('joined', onJoined);
    emitter.once('left', () => seen.push('left'));
    emitter.fire('joined', 'alice', 1);
    emitter.fire('left');
    emitter.fire('left');
    emitter.off('joined', onJoined);
    expect(emitter.fire('joined', 'bob', 2)).toBe(false);
    expect(seen).toEqual(['alice:1', 'left']);
  });

  it('keeps delivering to other listeners when one throws', () => {
    const emitter = new Emitter();
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: string[] = [];
    emitter.on('left', () => {
      throw new Error('boom');
    });
    emitter.on('left', () => seen.push('second'));
    expect(() => emitter.fire('left')).not.toThrow();
    expect(seen).toEqual(['second']);
    expect(error).toHaveBeenCalledOnce();
    error.mockRestore();
  });
});
