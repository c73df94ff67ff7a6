import { describe, expect, it } from 'vitest';
import {
  APIS,
  ProtocolError,
  Reader,
  apiByKey,
  decode,
  decodeRequestFrame,
  decodeResponseFrame,
  encode,
  encodeRequestFrame,
  encodeResponseFrame,
  type MessageDef,
} from '../../protocol/index.js';
import { generateMessage, seededRng } from './protocol-values.js';

/** Runs fn and returns the error it threw (or undefined). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

function expectProtocolError(err: unknown, what: string): void {
  if (!(err instanceof ProtocolError)) {
    throw new Error(`${what}: expected a ProtocolError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

/** Every offset for short inputs; otherwise the first and last 150 plus 200 random ones. */
function offsets(length: number, rng: () => number): number[] {
  if (length <= 500) return Array.from({ length }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < 150; i++) {
    out.add(i);
    out.add(length - 1 - i);
  }
  while (out.size < 500) out.add(Math.floor(rng() * length));
  return [...out];
}

const pairs: { def: MessageDef; version: number; frame: 'request' | 'response' }[] = [];
for (const api of APIS.values()) {
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    pairs.push({ def: api.request, version: v, frame: 'request' });
    pairs.push({ def: api.response, version: v, frame: 'response' });
  }
}

function frameOf(def: MessageDef, version: number, body: Record<string, unknown>, kind: 'request' | 'response'): Buffer {
  const chunks = kind === 'request' ? encodeRequestFrame(def, version, 1, 'robust', body) : encodeResponseFrame(def, version, 1, body);
  return Buffer.concat(chunks).subarray(4);
}
function decodeFrame(def: MessageDef, version: number, frame: Buffer, kind: 'request' | 'response'): unknown {
  return kind === 'request' ? decodeRequestFrame(frame).body : decodeResponseFrame(def, version, frame).body;
}

describe('decoding malformed input throws ProtocolError only', () => {
  it('rejects every truncation of a valid frame of every API version, request and response', () => {
    const rng = seededRng(11);
    let cases = 0;
    for (const { def, version, frame: kind } of pairs) {
      const body = generateMessage(def, version, 'full', version);
      const frame = frameOf(def, version, body, kind);
      for (const cut of offsets(frame.length, rng)) {
        expectProtocolError(thrown(() => decodeFrame(def, version, frame.subarray(0, cut), kind)), `${def.name} v${version} cut at ${cut}/${frame.length}`);
        cases++;
      }
      // bodies alone, too, through decode()
      const bytes = encode(def, version, body);
      for (const cut of offsets(bytes.length, rng)) {
        expectProtocolError(thrown(() => decode(def, version, bytes.subarray(0, cut))), `${def.name} v${version} body cut at ${cut}`);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(10_000);
  });

  it('decodes frames with random flipped bytes either to a value that re-encodes consistently or to a ProtocolError', () => {
    const rng = seededRng(12);
    let errors = 0;
    let decoded = 0;
    for (const { def, version, frame: kind } of pairs) {
      for (const mode of ['full', 'random'] as const) {
        const frame = frameOf(def, version, generateMessage(def, version, mode, version + 100), kind);
        for (let i = 0; i < 40; i++) {
          const bad = Buffer.from(frame);
          const flips = 1 + Math.floor(rng() * 3);
          // keep api key / version intact for requests half of the time, so bodies get exercised
          const from = kind === 'request' && i % 2 === 0 ? 4 : 0;
          for (let j = 0; j < flips; j++) bad[from + Math.floor(rng() * (bad.length - from))] = Math.floor(rng() * 256);
          let value: unknown;
          const err = thrown(() => {
            value = decodeFrame(def, version, bad, kind);
          });
          if (err !== undefined) {
            expectProtocolError(err, `${def.name} v${version} flipped`);
            errors++;
            continue;
          }
          decoded++;
          if (kind === 'request' && bad.readInt16BE(0) !== def.apiKey) continue;
          const again = encode(def, kind === 'request' ? bad.readInt16BE(2) : version, value as Record<string, unknown>);
          expect(decode(def, kind === 'request' ? bad.readInt16BE(2) : version, again)).toStrictEqual(value);
        }
      }
    }
    expect(errors).toBeGreaterThan(0);
    expect(decoded).toBeGreaterThan(0);
  });

  it('rejects huge and negative length prefixes at every position of every API version without allocating', () => {
    const prefixes = [
      Buffer.from([0x7f, 0xff, 0xff, 0xff]), // int32 2^31-1
      Buffer.from([0x80, 0x00, 0x00, 0x00]), // int32 -2^31
      Buffer.from([0xff, 0xff, 0xff, 0xfe]), // int32 -2
      Buffer.from([0x7f, 0xff]), // int16 32767
      Buffer.from([0xff, 0xfe]), // int16 -2
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), // uvarint 2^32-1
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), // uvarint 2^31-1
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // varint longer than 5 bytes
    ];
    const rng = seededRng(13);
    const heapBefore = process.memoryUsage().heapUsed;
    let rejected = 0;
    for (const { def, version } of pairs) {
      const bytes = encode(def, version, generateMessage(def, version, 'full', version + 200));
      const positions = offsets(bytes.length, rng).filter((_, i) => i % 3 === 0);
      for (const pos of positions) {
        for (const prefix of prefixes) {
          const bad = Buffer.concat([bytes.subarray(0, pos), prefix, bytes.subarray(pos + prefix.length)]);
          const err = thrown(() => decode(def, version, bad));
          if (err !== undefined) {
            expectProtocolError(err, `${def.name} v${version} prefix at ${pos}`);
            rejected++;
          }
        }
      }
    }
    expect(rejected).toBeGreaterThan(5_000);
    // nothing sized by an unchecked length: the heap does not grow by anything near 2 GiB
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(512 * 1024 * 1024);
  });

  it('rejects an array count of 2^31-1 before allocating, for fixed and compact arrays', () => {
    const metadata = apiByKey(3)!.request;
    const err = thrown(() => decode(metadata, 0, Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 1, 0x61])));
    expectProtocolError(err, 'metadata v0');
    expect((err as Error).message).toMatch(/exceeds/);
    const compact = thrown(() => decode(metadata, 12, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0])));
    expectProtocolError(compact, 'metadata v12');
    expect((compact as Error).message).toMatch(/exceeds/);
    const r = new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    expectProtocolError(
      thrown(() => r.arrayLength(false, false)),
      'reader',
    );
  });

  it('rejects nulls where the version does not allow them', () => {
    const metadata = apiByKey(3)!.request;
    // v0 topics array is not nullable; v1+ is
    expectProtocolError(thrown(() => decode(metadata, 0, Buffer.from([0xff, 0xff, 0xff, 0xff]))), 'null array v0');
    expect(decode(metadata, 1, Buffer.from([0xff, 0xff, 0xff, 0xff])).topics).toBeNull();
    // a non-nullable string with length -1
    const heartbeat = apiByKey(12)!.request;
    expectProtocolError(thrown(() => decode(heartbeat, 0, Buffer.from([0xff, 0xff, 0, 0, 0, 1, 0, 0]))), 'null group id');
  });

  it('rejects unknown API keys, unsupported versions and short headers', () => {
    const header = (key: number, version: number): Buffer => {
      const b = Buffer.alloc(10);
      b.writeInt16BE(key, 0);
      b.writeInt16BE(version, 2);
      b.writeInt32BE(1, 4);
      b.writeInt16BE(-1, 8);
      return b;
    };
    for (const [key, version] of [
      [7, 0],
      [-1, 0],
      [0, 12],
      [0, -1],
      [18, 5],
      [1000, 0],
    ] as const) {
      expectProtocolError(thrown(() => decodeRequestFrame(header(key, version))), `key ${key} v${version}`);
    }
    for (let n = 0; n < 10; n++) expectProtocolError(thrown(() => decodeRequestFrame(header(3, 0).subarray(0, n))), `header cut ${n}`);
    expectProtocolError(thrown(() => decodeResponseFrame(apiByKey(3)!.response, 0, Buffer.from([0, 0]))), 'response header cut');
  });
});
