/**
 * OffsetMap: the log cleaner's key → latest offset map (Kafka's SkimpyOffsetMap), bounded in memory.
 *
 * Keys are not stored: each is represented by a 128-bit hash (MurmurHash3 x86_128 of its bytes), so an entry
 * costs 24 bytes (16 of hash, 8 of offset) whatever the key's size; two keys sharing all 128 bits of hash
 * would be taken for one (the chance for a billion keys is about 1e-21). Open addressing with double
 * hashing in power-of-two tables; the table starts small and grows fourfold up to the largest power of two
 * that fits in `maxBytes` (log.cleaner.dedupe.buffer.size), and the map is full at `loadFactor` of that
 * (log.cleaner.io.buffer.load.factor), as Kafka's is.
 */

const ENTRY_BYTES = 24;
const INITIAL_SLOTS = 1 << 14;
/** Offsets are stored plus one: a zero-filled (freshly allocated, not yet touched) table is empty. */
const EMPTY = 0;
/** Slots moved between two pauses of a reserve(). */
const RESIZE_SLICE = 1 << 15;

interface Table {
  slots: number;
  /** 4 uint32 of hash per slot */
  hashes: Uint32Array;
  /** offset + 1, EMPTY for a free slot */
  offsets: Float64Array;
}

/** The slot of a table holding hash `h`, or the empty slot where it would go (double hashing). */
function find(hashes: Uint32Array, offsets: Float64Array, mask: number, h: Uint32Array): number {
  const h0 = h[0]!;
  const h1 = h[1]!;
  const h2 = h[2]!;
  const h3 = h[3]!;
  // an odd step visits every slot of a power-of-two table
  const step = (h1 | 1) & mask || 1;
  let slot = h0 & mask;
  for (;;) {
    if (offsets[slot] === EMPTY) return slot;
    const at = slot * 4;
    if (hashes[at] === h0 && hashes[at + 1] === h1 && hashes[at + 2] === h2 && hashes[at + 3] === h3) return slot;
    slot = (slot + step) & mask;
  }
}

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
    this.offsets = new Float64Array(this.slots);
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
    let slot = find(this.hashes, this.offsets, this.slots - 1, this.h);
    if (this.offsets[slot] === EMPTY) {
      if (this.size >= this.maxEntries) return false;
      if (this.size + 1 > this.slots * this.loadFactor && this.slots < this.maxSlots) {
        this.moveAll(this.grown());
        slot = find(this.hashes, this.offsets, this.slots - 1, this.h);
      }
      this.hashes.set(this.h, slot * 4);
      this.size++;
    }
    this.offsets[slot] = offset + 1;
    return true;
  }

  /** The offset put for the key in bytes [start, start + length) of `buf`, or -1. */
  get(buf: Buffer, start: number, length: number): number {
    murmur3x86_128(buf, start, length, this.h);
    return this.offsets[find(this.hashes, this.offsets, this.slots - 1, this.h)]! - 1;
  }

  /**
   * Grows the table ahead of `more` new keys, moving entries a slice at a time with `pause()` between
   * slices, so that a large table does not hold the event loop while it grows (put grows it at once).
   */
  async reserve(more: number, pause: () => Promise<void>): Promise<void> {
    while (this.size + more > this.slots * this.loadFactor && this.slots < this.maxSlots) {
      const next = this.grown();
      // touch the new table's pages a slice at a time (the first writes to fresh memory fault the pages in)
      for (let from = 0; from < next.slots; from += RESIZE_SLICE * 4) {
        const to = Math.min(next.slots, from + RESIZE_SLICE * 4);
        next.offsets.fill(EMPTY, from, to);
        next.hashes.fill(0, from * 4, to * 4);
        await pause();
      }
      for (let from = 0; from < this.slots; from += RESIZE_SLICE) {
        this.move(next, from, Math.min(this.slots, from + RESIZE_SLICE));
        await pause();
      }
      this.adopt(next);
    }
  }

  private grown(): Table {
    const slots = Math.min(this.slots * 4, this.maxSlots);
    return { slots, hashes: new Uint32Array(slots * 4), offsets: new Float64Array(slots) };
  }

  /** Copies the entries of slots [from, to) of the current table into `next`. */
  private move(next: Table, from: number, to: number): void {
    const h = new Uint32Array(4);
    for (let s = from; s < to; s++) {
      const offset = this.offsets[s]!;
      if (offset === EMPTY) continue;
      h.set(this.hashes.subarray(s * 4, s * 4 + 4));
      const slot = find(next.hashes, next.offsets, next.slots - 1, h);
      next.hashes.set(h, slot * 4);
      next.offsets[slot] = offset;
    }
  }

  private moveAll(next: Table): void {
    this.move(next, 0, this.slots);
    this.adopt(next);
  }

  private adopt(next: Table): void {
    this.slots = next.slots;
    this.hashes = next.hashes;
    this.offsets = next.offsets;
  }
}
