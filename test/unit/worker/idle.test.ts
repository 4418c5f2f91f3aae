// Idle-time work of one model (src/worker/idle.ts): a piece starts only while no request is queued
// or running, one at a time, and a disposed model rejects what still waits.
import { describe, expect, it } from 'vitest';
import { IdleSlots } from '../../../src/worker/idle';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('IdleSlots', () => {
  it('holds idle work while a request is queued, then runs the pieces one at a time', async () => {
    const slots = new IdleSlots();
    const log: string[] = [];
    const done = slots.request();
    let release!: () => void;
    const a = slots.schedule(async () => {
      log.push('a start');
      await new Promise<void>((r) => (release = r));
      log.push('a end');
      return 1;
    });
    const b = slots.schedule(async () => (log.push('b'), 2));
    await tick();
    expect(log).toEqual([]); // a request is waiting
    done();
    done(); // settling twice counts once
    await tick();
    expect(log).toEqual(['a start']); // b waits for a
    const later = slots.request(); // a request arriving now waits only for a (its chain turn), and holds b back
    release();
    expect(await a).toBe(1);
    await tick();
    expect(log).toEqual(['a start', 'a end']);
    later();
    expect(await b).toBe(2);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('rejects waiting and later pieces once closed', async () => {
    const slots = new IdleSlots();
    const done = slots.request();
    const waiting = slots.schedule(async () => 1);
    slots.close(new Error('disposed'));
    await expect(waiting).rejects.toThrow('disposed');
    await expect(slots.schedule(async () => 2)).rejects.toThrow('disposed');
    done();
  });
});
