/**
 * OffsetMap: the log cleaner's key → latest offset map (Kafka's SkimpyOffsetMap), bounded in memory.
 *
 * Keys are not stored: each is represented by a 128-bit hash (MurmurHash3 x86_128 of its bytes), so an entry
 * costs 24 bytes (16 of hash, 8 of offset) whatever the key's size; two keys sharing all 128 bits of hash
 * would be taken for one (the chance for a billion keys is about 1e-21). Open addressing with double
 * hashing in power-of-two tables; the table starts small and doubles up to the largest power of two that
 * fits in `maxBytes` (log.cleaner.dedupe.buffer.size), and the map is full at `loadFactor` of that
 * (log.cleaner.io.buffer.load.factor), as Kafka's is.
 */

const ENTRY_BYTES = 24;
const INITIAL_SLOTS = 1 << 14;
const EMPTY = -1;

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** MurmurHash3 x86_128 (seed 0) of bytes [start, start + len) of `buf`, into out[0..3] as uint32s. */
export function murmur3x86_128(buf: Buffer, start: number, len: number, out: Uint32Array): void {
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  const blocks = start + len - (len % 16);
  let i = start;
  for (; i < blocks; i += 16) {
    let k1 = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    let k2 = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    let k3 = buf[i + 8]! | (buf[i + 9]! << 8) | (buf[i + 10]! << 16) | (buf[i + 11]! << 24);
    let k4 = buf[i + 12]! | (buf[i + 13]! << 8) | (buf[i + 14]! << 16) | (buf[i + 15]! << 24);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const rest = start + len - blocks;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  if (rest > 12) {
    for (let j = rest - 1; j >= 12; j--) k4 ^= buf[i + j]! << ((j - 12) * 8);
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  }
  if (rest > 8) {
    for (let j = Math.min(rest, 12) - 1; j >= 8; j--) k3 ^= buf[i + j]! << ((j - 8) * 8);
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  }
  if (rest > 4) {
    for (let j = Math.min(rest, 8) - 1; j >= 4; j--) k2 ^= buf[i + j]! << ((j - 4) * 8);
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  }
  if (rest > 0) {
    for (let j = Math.min(rest, 4) - 1; j >= 0; j--) k1 ^= buf[i + j]! << (j * 8);
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  }
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[0] = h1;
  out[1] = h2 + h1;
  out[2] = h3 + h1;
  out[3] = h4 + h1;
}

export class OffsetMap {
  /** Keys in the map. */
  size = 0;
  /** The largest offset the map covers (every keyed record up to it was put), -1 when none. */
  latestOffset = -1;
  /** Entries at which the map counts as full. */
  readonly maxEntries: number;
  private readonly maxSlots: number;
  private slots: number;
  private hashes: Uint32Array;
  private offsets: Float64Array;
  private readonly h = new Uint32Array(4);

  constructor(
    maxBytes: number,
    private readonly loadFactor = 0.9,
  ) {
    if (!Number.isFinite(maxBytes) || maxBytes < ENTRY_BYTES * 2) throw new RangeError(`the offset map needs at least ${ENTRY_BYTES * 2} bytes, got ${maxBytes}`);
    if (!(loadFactor > 0 && loadFactor <= 1)) throw new RangeError(`the offset map load factor must be in (0, 1], got ${loadFactor}`);
    let slots = 2;
    while (slots * 2 * ENTRY_BYTES <= maxBytes) slots *= 2;
    this.maxSlots = slots;
    this.maxEntries = Math.max(1, Math.floor(slots * loadFactor));
    this.slots = Math.min(slots, INITIAL_SLOTS);
    this.hashes = new Uint32Array(this.slots * 4);
    this.offsets = new Float64Array(this.slots).fill(EMPTY);
  }

  /** Bytes the table occupies now. */
  get bytes(): number {
    return this.slots * ENTRY_BYTES;
  }

  /** Share of the map in use (of maxEntries). */
  get utilization(): number {
    return this.size / this.maxEntries;
  }

  get full(): boolean {
    return this.size >= this.maxEntries;
  }

  /**
   * Sets the offset of the key in bytes [start, start + length) of `buf` (a later put of the same key
   * overwrites); false when the map is full and the key is new.
   */
  put(buf: Buffer, start: number, length: number, offset: number): boolean {
    murmur3x86_128(buf, start, length, this.h);
    let slot = this.find(this.h);
    if (this.offsets[slot] === EMPTY) {
      if (this.size >= this.maxEntries) return false;
      if (this.size + 1 > this.slots * this.loadFactor && this.slots < this.maxSlots) {
        this.grow();
        slot = this.find(this.h);
      }
      const at = slot * 4;
      this.hashes[at] = this.h[0]!;
      this.hashes[at + 1] = this.h[1]!;
      this.hashes[at + 2] = this.h[2]!;
      this.hashes[at + 3] = this.h[3]!;
      this.size++;
    }
    this.offsets[slot] = offset;
    return true;
  }

  /** The offset put for the key in bytes [start, start + length) of `buf`, or -1. */
  get(buf: Buffer, start: number, length: number): number {
    murmur3x86_128(buf, start, length, this.h);
    return this.offsets[this.find(this.h)]!;
  }

  /** The slot holding hash `h`, or the empty slot where it would go. */
  private find(h: Uint32Array): number {
    const mask = this.slots - 1;
    const h0 = h[0]!;
    const h1 = h[1]!;
    const h2 = h[2]!;
    const h3 = h[3]!;
    // double hashing: an odd step visits every slot of a power-of-two table
    const step = (h1 | 1) & mask || 1;
    let slot = h0 & mask;
    for (;;) {
      if (this.offsets[slot] === EMPTY) return slot;
      const at = slot * 4;
      if (this.hashes[at] === h0 && this.hashes[at + 1] === h1 && this.hashes[at + 2] === h2 && this.hashes[at + 3] === h3) return slot;
      slot = (slot + step) & mask;
    }
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldOffsets = this.offsets;
    const oldSlots = this.slots;
    this.slots = Math.min(this.slots * 4, this.maxSlots);
    this.hashes = new Uint32Array(this.slots * 4);
    this.offsets = new Float64Array(this.slots).fill(EMPTY);
    const h = new Uint32Array(4);
    for (let s = 0; s < oldSlots; s++) {
      const offset = oldOffsets[s]!;
      if (offset === EMPTY) continue;
      h.set(oldHashes.subarray(s * 4, s * 4 + 4));
      const slot = this.find(h);
      this.hashes.set(h, slot * 4);
      this.offsets[slot] = offset;
    }
  }
}
