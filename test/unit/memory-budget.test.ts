import { describe, expect, test } from 'vitest';
import { MemoryBudget } from '../../src/memory-budget.js';

describe('MemoryBudget', () => {
  test('takes while the bytes fit, and a request larger than the whole budget when nothing else is taken', () => {
    const b = new MemoryBudget(100);
    expect(b.tryTake(60)).toBe(true);
    expect(b.tryTake(50)).toBe(false);
    expect(b.tryTake(40)).toBe(true);
    b.release(100);
    expect(b.tryTake(500)).toBe(true);
    expect(b.used).toBe(500);
    expect(b.peak).toBe(500);
  });

  test('serves waiters in arrival order: a small request does not overtake a large one', () => {
    const b = new MemoryBudget(100);
    b.tryTake(90);
    const granted: string[] = [];
    b.enqueue(80, () => granted.push('large'));
    // fits beside the 90, but the large one waits first
    expect(b.tryTake(5)).toBe(false);
    b.enqueue(5, () => granted.push('small'));
    b.release(90);
    expect(granted).toEqual(['large', 'small']);
    expect(b.used).toBe(85);
  });

  test('an upTo waiter takes what is free instead of waiting for all it asked, never more than the capacity', async () => {
    const b = new MemoryBudget(100);
    expect(await b.take(500, true)).toBe(100);
    b.release(100);
    b.tryTake(70);
    expect(await b.take(50, true)).toBe(30);
    expect(b.used).toBe(100);
    const later = b.take(10, true);
    b.release(4);
    expect(await later).toBe(4);
  });

  test('a cancelled waiter gives way to the next one', () => {
    const b = new MemoryBudget(100);
    b.tryTake(50);
    const cancel = b.enqueue(80, () => {
      throw new Error('cancelled waiter granted');
    });
    let small = false;
    b.enqueue(20, () => (small = true));
    expect(small).toBe(false);
    cancel();
    expect(small).toBe(true);
    expect(b.waiting).toBe(0);
  });

  test('a capacity of 0 or less is no limit', () => {
    const b = new MemoryBudget(-1);
    expect(b.tryTake(2 ** 40)).toBe(true);
    expect(b.tryTake(2 ** 40)).toBe(true);
  });

  test("'fit' order: a waiter that does not fit holds back nobody; smaller ones that fit are served", () => {
    const b = new MemoryBudget(100, 'fit');
    b.force(90);
    const granted: string[] = [];
    b.enqueue(80, () => granted.push('large'));
    expect(b.tryTake(5)).toBe(true);
    b.enqueue(3, () => granted.push('small'));
    expect(granted).toEqual(['small']);
    b.release(95);
    expect(granted).toEqual(['small', 'large']);
    expect(b.used).toBe(83);
  });

  test("'fit' order: when waiters hold every byte taken, the one closest to finishing is served past the capacity", () => {
    const b = new MemoryBudget(100, 'fit');
    // two requests half arrived, 50 bytes each, both needing more
    b.force(100);
    const granted: string[] = [];
    const a = { held: 50, need: 40 };
    const c = { held: 50, need: 10 };
    const progress = (p: { held: number; need: number }) => ({ heldBytes: () => p.held, bytesToFinish: () => p.need });
    b.enqueue(20, () => granted.push('a'), true, progress(a));
    expect(granted).toEqual([]);
    // another holder exists (not waiting): a release may come, nobody goes past the capacity yet
    b.force(10);
    b.enqueue(10, () => granted.push('c'), true, progress(c));
    expect(granted).toEqual([]);
    // it lets go: now only the waiters hold bytes, and the closer one goes on
    b.release(10);
    expect(granted).toEqual(['c']);
    expect(b.used).toBe(110);
  });

  test('a waiter asking for a negative size gets nothing at once, in either order, even when the budget is full', async () => {
    for (const order of ['arrival', 'fit'] as const) {
      const b = new MemoryBudget(100, order);
      b.force(100);
      expect(await b.take(-5, true)).toBe(0);
      expect(await b.take(-5)).toBe(0);
      expect(b.used).toBe(100);
    }
  });
});
