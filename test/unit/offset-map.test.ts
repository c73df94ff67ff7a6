import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { OffsetMap, murmur3x86_128 } from '../../storage/offset-map.js';

function key(s: string): Buffer {
  return Buffer.from(s);
}

test('keeps the latest offset put for each key and answers -1 for keys never put', () => {
  const map = new OffsetMap(8 * 1024 * 1024);
  let refused = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 50_000; i++) {
      const k = key(`key-${i}`);
      if (!map.put(k, 0, k.length, round * 100_000 + i)) refused++;
    }
  }
  expect(refused).toBe(0);
  expect(map.size).toBe(50_000);
  const wrong: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    const k = key(`key-${i}`);
    const expected = i < 50_000 ? 200_000 + i : -1;
    if (map.get(k, 0, k.length) !== expected) wrong.push(`key-${i}`);
  }
  expect(wrong).toEqual([]);
});

test('hashes a key by its bytes wherever they lie in a buffer', () => {
  const map = new OffsetMap(1024 * 1024);
  const area = Buffer.concat([Buffer.from('xxabcdefghijklmnopqrstuvwxyzyy'), Buffer.from('abcdefghijklmnopqrstuvwxyz')]);
  map.put(area, 2, 26, 7);
  expect(map.get(area, 30, 26)).toBe(7);
  expect(map.get(area, 30, 25)).toBe(-1);
  expect(map.get(Buffer.alloc(0), 0, 0)).toBe(-1);
  map.put(Buffer.alloc(0), 0, 0, 9);
  expect(map.get(Buffer.alloc(3), 1, 0)).toBe(9);
});

test('is bounded by its byte budget: full at the load factor of the largest table that fits, updates still allowed', () => {
  const map = new OffsetMap(24 * 1024, 0.5);
  // 24 KiB holds 1024 slots of 24 bytes: full at 512 keys
  expect(map.maxEntries).toBe(512);
  let accepted = 0;
  for (let i = 0; i < 1000; i++) {
    const k = key(`k${i}`);
    if (map.put(k, 0, k.length, i)) accepted++;
  }
  expect(accepted).toBe(512);
  expect(map.full).toBe(true);
  expect(map.bytes).toBeLessThanOrEqual(24 * 1024);
  const first = key('k0');
  expect(map.put(first, 0, first.length, 5000)).toBe(true);
  expect(map.get(first, 0, first.length)).toBe(5000);
  expect(() => new OffsetMap(10)).toThrow(RangeError);
});

test('128-bit hashes of distinct keys do not collide, even on their first 32 bits, and every input byte changes the hash', () => {
  const keys = new Set<string>();
  const hashes = new Set<string>();
  const firstWords = new Set<number>();
  const out = new Uint32Array(4);
  for (let i = 0; i < 100_000; i++) {
    const k = randomBytes(8 + (i % 33));
    keys.add(k.toString('hex'));
    murmur3x86_128(k, 0, k.length, out);
    hashes.add(`${out[0]}-${out[1]}-${out[2]}-${out[3]}`);
    firstWords.add(out[0]!);
  }
  expect(hashes.size).toBe(keys.size);
  // a uniform 32-bit hash of 100,000 keys has about one collision
  expect(firstWords.size).toBeGreaterThan(keys.size - 10);
  const base = Buffer.from('0123456789abcdefghijklmnopqrstu');
  murmur3x86_128(base, 0, base.length, out);
  const reference = [...out].join('-');
  for (let i = 0; i < base.length; i++) {
    const changed = Buffer.from(base);
    changed[i] ^= 1;
    murmur3x86_128(changed, 0, changed.length, out);
    expect([...out].join('-')).not.toBe(reference);
  }
});

test('reserve grows the table a slice at a time, pausing between slices, and keeps every entry', async () => {
  const map = new OffsetMap(64 * 1024 * 1024);
  for (let i = 0; i < 10_000; i++) {
    const k = key(`key-${i}`);
    map.put(k, 0, k.length, i);
  }
  const before = map.bytes;
  let pauses = 0;
  await map.reserve(1_000_000, async () => {
    pauses++;
  });
  expect(map.bytes).toBeGreaterThan(before);
  expect(pauses).toBeGreaterThan(1);
  const wrong: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const k = key(`key-${i}`);
    if (map.get(k, 0, k.length) !== i) wrong.push(i);
  }
  expect(wrong).toEqual([]);
  // a reserved table takes the new keys without growing at once
  const reserved = map.bytes;
  for (let i = 10_000; i < 500_000; i++) {
    const k = key(`key-${i}`);
    map.put(k, 0, k.length, i);
  }
  expect(map.bytes).toBe(reserved);
});
