import { describe, expect, it } from 'vitest';
import { WakeableLoop } from './wakeable-loop';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe(WakeableLoop.name, () => {
  it('never overlaps passes; wakes during a pass run exactly one more', async () => {
    let running = 0;
    let passes = 0;
    let release!: () => void;
    const sut = new WakeableLoop(async () => {
      running += 1;
      expect(running).toBe(1);
      passes += 1;
      if (passes === 1) await new Promise<void>((r) => (release = r));
      running -= 1;
      return false;
    }, 60_000, () => undefined);
    sut.wake();
    sut.wake();
    sut.wake();
    await tick();
    release();
    await tick();
    expect(passes).toBe(2);
    await sut.stop(100);
  });

  it('runs again at once while a pass says more work waits, and keeps going after an error', async () => {
    const results = [true, true, false];
    const errors: string[] = [];
    let passes = 0;
    const sut = new WakeableLoop(async () => {
      passes += 1;
      if (passes === 1) throw new Error('db down');
      return results.shift() ?? false;
    }, 60_000, (e) => errors.push(e.message));
    sut.wake();
    await tick();
    sut.wake();
    await tick();
    expect(errors).toEqual(['db down']);
    expect(passes).toBe(4);
    await sut.stop(100);
  });

  it('stop waits for a stuck pass no longer than its grace, then ignores wakes', async () => {
    let passes = 0;
    const sut = new WakeableLoop(async () => {
      passes += 1;
      await new Promise(() => undefined);
      return false;
    }, 60_000, () => undefined);
    sut.wake();
    const started = Date.now();
    await sut.stop(50);
    expect(Date.now() - started).toBeLessThan(500);
    sut.wake();
    expect(passes).toBe(1);
  });
});
