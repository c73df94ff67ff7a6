/**
 * Fuzz cases for a running broker: seeded byte strings to send on a fresh connection, each with the answer
 * Kafka gives it. Valid requests are generated from our schemas (test/unit/protocol-values.ts) for every
 * API and version the broker lists, then mutated (bit flips, overwrites with boundary values, truncations,
 * inserted, deleted and repeated bytes, swapped header versions, api keys and versions); besides them:
 * unknown API keys, unsupported versions, out-of-range size prefixes, corrupt record batches and
 * legacy message sets, and decompression bombs.
 *
 * Each case is followed on its connection by a "ping" (ApiVersions v0, correlation id PING_ID), except
 * when it ends with an incomplete frame (then the client half-closes instead): the broker must either
 * close the connection or answer the ping, after at most one answer to the case.
 */
import { crc32c } from '@node-rs/crc32';
import {
  apiByKey,
  APIS,
  ApiKey,
  decodeResponseFrame,
  encodeRequestFrame,
  ErrorCode,
  isFlexible,
  requestHeaderVersion,
  schemas,
  type MessageDef,
} from '../../protocol/index.js';
import { buildRecordBatch, compress, Compression, encodeMessageSet, ATTRIBUTES_OFFSET, CRC_OFFSET } from '../../protocol/records/index.js';
import { generateMessage, seededRng, type Mode, type Rng } from '../unit/protocol-values.js';

export const PING_ID = 0x50494e47;
export const PING = Buffer.concat(encodeRequestFrame(schemas.apiVersionsRequest, 0, PING_ID, 'fuzz-ping', {}));

export interface SupportedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/**
 * What the broker must do:
 * - closed: close the connection without answering;
 * - answer: answer once, with a response that decodes (the check), and keep the connection;
 * - produce-error: answer a Produce with an error code on its partition (NONE allowed when `mayAccept`);
 * - any: close, or answer at most once and then the ping.
 */
export type Expectation =
  | { readonly kind: 'closed' }
  | { readonly kind: 'answer'; readonly check: (frame: Buffer) => void }
  | { readonly kind: 'produce-error'; readonly version: number; readonly mayAccept: boolean }
  | { readonly kind: 'any' };

export interface FuzzCase {
  readonly id: number;
  /** Family of the case, for the report (valid, bitflip, truncate, ...). */
  readonly family: string;
  readonly label: string;
  readonly bytes: Buffer;
  /** Half-close after the bytes instead of sending the ping (an incomplete frame). */
  readonly halfClose: boolean;
  readonly expect: Expectation;
}

export interface FuzzContext {
  readonly apis: readonly SupportedApi[];
  readonly maxRequestBytes: number;
  /** An existing topic (partition 0) that corrupt batches are produced to. */
  readonly topic: string;
  /** Pre-built decompression bombs (record batches). */
  readonly bombs: readonly { readonly label: string; readonly batch: Buffer }[];
  /** A few valid batches and legacy message sets to corrupt, each with its magic. */
  readonly batches: readonly { readonly label: string; readonly bytes: Buffer; readonly magic: number }[];
}

const CLIENT_IDS: readonly (string | null)[] = ['fuzz', null, '', 'ünïcødé-client-✓'.repeat(3)];
const MODES: readonly Mode[] = ['random', 'full', 'empty', 'extreme'];
const BOUNDARY: readonly Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0x80]),
  Buffer.from([0x7f]),
  Buffer.from([0x00]),
  Buffer.from([0xff, 0xff]),
  Buffer.from([0x7f, 0xff]),
  Buffer.from([0x80, 0x00]),
  Buffer.from([0xff, 0xff, 0xff, 0xff]),
  Buffer.from([0x7f, 0xff, 0xff, 0xff]),
  Buffer.from([0x80, 0x00, 0x00, 0x00]),
  Buffer.from([0x00, 0x00, 0x00, 0x00]),
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
];

function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}
function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}
function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

/** A frame: size prefix + `body` (the request without its prefix). */
function framed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

interface ValidRequest {
  readonly def: MessageDef;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly body: Record<string, unknown>;
  readonly frame: Buffer;
}

function validRequest(ctx: FuzzContext, rng: Rng): ValidRequest {
  const api = pick(rng, ctx.apis);
  const def = apiByKey(api.apiKey)!.request;
  const version = int(rng, api.minVersion, api.maxVersion);
  const body = generateMessage(def, version, pick(rng, MODES), int(rng, 0, 2 ** 31 - 1));
  const correlationId = int(rng, 0, 2 ** 31 - 1);
  const clientId = pick(rng, CLIENT_IDS);
  const frame = Buffer.concat(encodeRequestFrame(def, version, correlationId, clientId, body));
  return { def, version, correlationId, clientId, body, frame };
}

/**
 * Whether Kafka fails to parse this ACL request (its CreateAcls/DescribeAcls/DeleteAcls request classes refuse
 * an UNKNOWN code, 0, in any enum field, and at v0 a pattern type other than LITERAL, or ANY for a filter),
 * which closes the connection.
 */
function aclRequestKafkaCannotParse(req: ValidRequest): boolean {
  const UNKNOWN = 0;
  const ANY = 1;
  const LITERAL = 3;
  const unparsable = (resourceType: unknown, patternType: unknown, operation: unknown, permissionType: unknown, filter: boolean): boolean => {
    const pattern = req.version === 0 ? LITERAL : patternType;
    if (req.version === 0 && pattern !== LITERAL && !(filter && pattern === ANY)) return true;
    return [resourceType, pattern, operation, permissionType].includes(UNKNOWN);
  };
  const list = (name: string): Array<Record<string, unknown>> => (req.body[name] as Array<Record<string, unknown>> | undefined) ?? [];
  switch (req.def.apiKey) {
    case ApiKey.CreateAcls:
      return list('creations').some((c) => unparsable(c['resourceType'], c['resourcePatternType'], c['operation'], c['permissionType'], false));
    case ApiKey.DescribeAcls:
      return unparsable(req.body['resourceTypeFilter'], req.body['patternTypeFilter'], req.body['operation'], req.body['permissionType'], true);
    case ApiKey.DeleteAcls:
      return list('filters').some((f) => unparsable(f['resourceTypeFilter'], f['patternTypeFilter'], f['operation'], f['permissionType'], true));
    default:
      return false;
  }
}

/** The answer a valid request must get: a response for its API and version, with its correlation id. */
function answerOf(req: ValidRequest): Expectation {
  if (req.def.apiKey === ApiKey.Produce && req.body['acks'] === 0) return { kind: 'any' };
  if (aclRequestKafkaCannotParse(req)) return { kind: 'closed' };
  const response = apiByKey(req.def.apiKey)!.response;
  return {
    kind: 'answer',
    check: (frame) => {
      const decoded = decodeResponseFrame(response, req.version, frame);
      if (decoded.correlationId !== req.correlationId) throw new Error(`correlation id ${decoded.correlationId}, expected ${req.correlationId}`);
    },
  };
}

/** Byte-level mutations of a whole frame; the size prefix is fixed to the new length unless `keepPrefix`. */
function mutate(frame: Buffer, rng: Rng): { family: string; bytes: Buffer; halfClose: boolean } {
  const body = Buffer.from(frame.subarray(4));
  const kind = int(rng, 0, 6);
  switch (kind) {
    case 0: {
      const flips = int(rng, 1, 8);
      for (let i = 0; i < flips; i++) {
        const pos = int(rng, 0, body.length - 1);
        body[pos]! ^= 1 << int(rng, 0, 7);
      }
      return { family: 'bitflip', bytes: framed(body), halfClose: false };
    }
    case 1: {
      const value = pick(rng, BOUNDARY);
      const pos = int(rng, 0, Math.max(0, body.length - value.length));
      value.copy(body, pos, 0, Math.min(value.length, body.length - pos));
      return { family: 'overwrite', bytes: framed(body), halfClose: false };
    }
    case 2: {
      const cut = int(rng, 0, body.length - 1);
      return { family: 'truncate', bytes: framed(body.subarray(0, cut)), halfClose: false };
    }
    case 3: {
      // the prefix still promises the whole frame: the broker waits for the rest, then sees the end of the stream
      const cut = int(rng, 0, frame.length - 1);
      return { family: 'truncate-eof', bytes: frame.subarray(0, cut), halfClose: true };
    }
    case 4: {
      const pos = int(rng, 0, body.length);
      const inserted = rng() < 0.5 ? randomBytes(rng, int(rng, 1, 16)) : pick(rng, BOUNDARY);
      return { family: 'insert', bytes: framed(Buffer.concat([body.subarray(0, pos), inserted, body.subarray(pos)])), halfClose: false };
    }
    case 5: {
      const pos = int(rng, 0, body.length - 1);
      const n = int(rng, 1, Math.min(16, body.length - pos));
      return { family: 'delete', bytes: framed(Buffer.concat([body.subarray(0, pos), body.subarray(pos + n)])), halfClose: false };
    }
    default: {
      const pos = int(rng, 0, body.length - 1);
      const n = int(rng, 1, Math.min(32, body.length - pos));
      const region = body.subarray(pos, pos + n);
      const times = int(rng, 1, 64);
      return { family: 'repeat', bytes: framed(Buffer.concat([body.subarray(0, pos + n), ...Array.from({ length: times }, () => region), body.subarray(pos + n)])), halfClose: false };
    }
  }
}

/** The same request with the other request header version (tagged fields added or dropped after the client id). */
function swapHeaderVersion(req: ValidRequest): Buffer {
  const body = req.frame.subarray(4);
  const clientIdEnd = 10 + Math.max(0, body.readInt16BE(8));
  const flexible = requestHeaderVersion(apiByKey(req.def.apiKey)!, req.version) === 2;
  const swapped = flexible
    ? Buffer.concat([body.subarray(0, clientIdEnd), body.subarray(clientIdEnd + 1)])
    : Buffer.concat([body.subarray(0, clientIdEnd), Buffer.from([0]), body.subarray(clientIdEnd)]);
  return framed(swapped);
}

/** A header of api key/version with `body` after it (header v1 or v2 as the version asks, when known). */
function requestWith(apiKey: number, version: number, body: Buffer, correlationId: number): Buffer {
  const api = apiByKey(apiKey);
  const flexible = api !== undefined && version >= api.minVersion && version <= api.maxVersion && isFlexible(api.request, version);
  const header = Buffer.alloc(14 + (flexible ? 1 : 0));
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(4, 8);
  header.write('fuzz', 10);
  return framed(Buffer.concat([header, body]));
}

function produceRequest(version: number, topic: string, records: Buffer, correlationId: number): Buffer {
  return Buffer.concat(
    encodeRequestFrame(schemas.produceRequest, version, correlationId, 'fuzz', {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    }),
  );
}

/** Corrupts a record batch or message set; `mayAccept` when only bytes the broker overwrites were touched. */
function corruptBatch(batch: Buffer, magic: number, rng: Rng): { what: string; bytes: Buffer; mayAccept: boolean } {
  const b = Buffer.from(batch);
  switch (int(rng, 0, 4)) {
    case 0: {
      const pos = int(rng, 0, b.length - 1);
      b[pos]! ^= 1 << int(rng, 0, 7);
      return { what: `flip@${pos}`, bytes: b, mayAccept: setByBroker(batch, magic, pos) };
    }
    case 1: {
      const cut = int(rng, 1, b.length - 1);
      // as Kafka, a partial legacy entry after whole ones is dropped and the whole ones appended
      return { what: `truncated@${cut}`, bytes: b.subarray(0, cut), mayAccept: magic !== 2 && cut >= 12 + b.readInt32BE(8) };
    }
    case 2: {
      if (magic !== 2) return { what: 'trailing', bytes: Buffer.concat([b, randomBytes(rng, int(rng, 1, 30))]), mayAccept: false };
      // a wrong record count or codec with a valid CRC: only the content checks can catch it
      let what: string;
      if (rng() < 0.5) {
        const count = pick(rng, [0, -1, 2 ** 31 - 1, b.readInt32BE(57) + int(rng, 1, 1000)]);
        b.writeInt32BE(count, 57);
        what = `count ${count}`;
      } else {
        const attributes = b.readInt16BE(ATTRIBUTES_OFFSET);
        const codec = pick(rng, [0, 1, 2, 3, 4, 5, 6, 7].filter((c) => c !== (attributes & 0x07)));
        b.writeInt16BE((attributes & ~0x07) | codec, ATTRIBUTES_OFFSET);
        what = `codec ${attributes & 0x07}->${codec}`;
      }
      b.writeUInt32BE(crc32c(b.subarray(ATTRIBUTES_OFFSET)) >>> 0, CRC_OFFSET);
      return { what: `resealed ${what}`, bytes: b, mayAccept: false };
    }
    case 3: {
      // batch length field out of range
      b.writeInt32BE(pick(rng, [-1, 0, 2 ** 31 - 1, b.length, b.length + 100]), 8);
      return { what: 'length', bytes: b, mayAccept: false };
    }
    default: {
      // two batches, the second one corrupt
      const second = Buffer.from(batch);
      const pos = int(rng, 16, second.length - 1);
      second[pos]! ^= 0xff;
      return { what: `second-corrupt@${pos}`, bytes: Buffer.concat([b, second]), mayAccept: setByBroker(batch, magic, pos) };
    }
  }
}

/**
 * True when byte `pos` of `batch` (a v2 batch or a legacy message set) lies outside every checksum, in a
 * field the broker overwrites: a v2 batch's baseOffset and partitionLeaderEpoch, a legacy entry's offset.
 */
function setByBroker(batch: Buffer, magic: number, pos: number): boolean {
  if (magic === 2) return pos < 8 || (pos >= 12 && pos < 16);
  for (let at = 0; at + 12 <= batch.length; at += 12 + batch.readInt32BE(at + 8)) {
    if (pos >= at && pos < at + 8) return true;
    if (pos < at + 12 + batch.readInt32BE(at + 8)) return false;
  }
  return false;
}

/** The `n` cases of `seed`, generated lazily. */
export function* fuzzCases(ctx: FuzzContext, seed: number, n: number): Generator<FuzzCase> {
  const rng = seededRng(seed);
  const supported = new Set(ctx.apis.map((a) => a.apiKey));
  const unsupportedKnown = [...APIS.values()].filter((a) => !supported.has(a.key)).map((a) => a.key);
  for (let id = 0; id < n; id++) {
    const roll = rng();
    const correlationId = int(rng, 0, 2 ** 31 - 1);
    if (roll < 0.12) {
      const req = validRequest(ctx, rng);
      yield { id, family: 'valid', label: `${req.def.name} v${req.version}`, bytes: req.frame, halfClose: false, expect: answerOf(req) };
    } else if (roll < 0.62) {
      const req = validRequest(ctx, rng);
      const m = mutate(req.frame, rng);
      yield { id, family: m.family, label: `${req.def.name} v${req.version}`, bytes: m.bytes, halfClose: m.halfClose, expect: { kind: 'any' } };
    } else if (roll < 0.67) {
      const req = validRequest(ctx, rng);
      yield { id, family: 'header-version', label: `${req.def.name} v${req.version}`, bytes: swapHeaderVersion(req), halfClose: false, expect: { kind: 'any' } };
    } else if (roll < 0.72) {
      // another API's or version's body under this header
      const req = validRequest(ctx, rng);
      const api = pick(rng, ctx.apis);
      const bytes = Buffer.from(req.frame);
      if (rng() < 0.5) bytes.writeInt16BE(api.apiKey, 4);
      bytes.writeInt16BE(int(rng, api.minVersion, api.maxVersion), 6);
      yield { id, family: 'swapped-api', label: `${req.def.name} v${req.version} as ${api.apiKey}`, bytes, halfClose: false, expect: { kind: 'any' } };
    } else if (roll < 0.76) {
      const key = rng() < 0.5 && unsupportedKnown.length > 0 ? pick(rng, unsupportedKnown) : pick(rng, [-1, -32768, 32767, int(rng, 70, 32767), int(rng, -32768, -1)]);
      yield { id, family: 'unknown-api', label: `key ${key}`, bytes: requestWith(key, int(rng, 0, 20), randomBytes(rng, int(rng, 0, 64)), correlationId), halfClose: false, expect: { kind: 'closed' } };
    } else if (roll < 0.8) {
      const api = pick(rng, ctx.apis);
      const version = pick(rng, [api.maxVersion + 1, api.maxVersion + int(rng, 2, 100), 32767, -1, -32768, ...(api.minVersion > 0 ? [api.minVersion - 1] : [])]);
      const bytes = requestWith(api.apiKey, version, randomBytes(rng, int(rng, 0, 64)), correlationId);
      // ApiVersions above our range is answered with a v0 UNSUPPORTED_VERSION body (KIP-511)
      const expect: Expectation =
        api.apiKey === ApiKey.ApiVersions && version > api.maxVersion
          ? {
              kind: 'answer',
              check: (frame) => {
                const res = decodeResponseFrame(schemas.apiVersionsResponse, 0, frame);
                if (res.body.errorCode !== ErrorCode.UNSUPPORTED_VERSION) throw new Error(`error code ${res.body.errorCode}`);
              },
            }
          : { kind: 'closed' };
      yield { id, family: 'unsupported-version', label: `key ${api.apiKey} v${version}`, bytes, halfClose: false, expect };
    } else if (roll < 0.84) {
      const size = pick(rng, [-1, -(2 ** 31), int(rng, -(2 ** 31), -1), 2 ** 31 - 1, ctx.maxRequestBytes + 1, int(rng, ctx.maxRequestBytes + 1, 2 ** 31 - 1)]);
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size, 0);
      yield { id, family: 'size-prefix', label: `size ${size}`, bytes: Buffer.concat([prefix, randomBytes(rng, int(rng, 0, 32))]), halfClose: false, expect: { kind: 'closed' } };
    } else if (roll < 0.86) {
      // frames shorter than a request header
      const n = int(rng, 0, 7);
      yield { id, family: 'short-frame', label: `${n} bytes`, bytes: framed(randomBytes(rng, n)), halfClose: false, expect: { kind: 'closed' } };
    } else if (roll < 0.995) {
      const source = pick(rng, ctx.batches);
      const c = corruptBatch(source.bytes, source.magic, rng);
      // legacy message sets go in Produce v0-2, v2 batches in v3+
      const version = source.magic === 2 ? int(rng, 3, 11) : int(rng, 0, 2);
      yield {
        id,
        family: 'corrupt-batch',
        label: `${source.label} ${c.what} in Produce v${version}`,
        bytes: produceRequest(version, ctx.topic, c.bytes, correlationId),
        halfClose: false,
        expect: { kind: 'produce-error', version, mayAccept: c.mayAccept },
      };
    } else {
      const bomb = pick(rng, ctx.bombs);
      const version = int(rng, 7, 11);
      yield {
        id,
        family: 'bomb',
        label: `${bomb.label} in Produce v${version}`,
        bytes: produceRequest(version, ctx.topic, bomb.batch, correlationId),
        halfClose: false,
        expect: { kind: 'produce-error', version, mayAccept: false },
      };
    }
  }
}

/** Record batches whose records inflate to `inflatedBytes` (zeros, or zero-length records: not valid records). */
export async function decompressionBombs(inflatedBytes: number): Promise<Array<{ label: string; batch: Buffer }>> {
  const zeros = Buffer.alloc(inflatedBytes);
  const out: Array<{ label: string; batch: Buffer }> = [];
  for (const [name, codec] of [
    ['gzip', Compression.gzip],
    ['snappy', Compression.snappy],
    ['lz4', Compression.lz4],
    ['zstd', Compression.zstd],
  ] as const) {
    const template = await buildRecordBatch([{ value: Buffer.from('x') }], { compression: codec, timestamp: 1_700_000_000_000 });
    const payload = await compress(codec, zeros);
    for (const count of [1, 2 ** 31 - 1]) {
      const batch = Buffer.concat([template.subarray(0, 61), payload]);
      batch.writeInt32BE(batch.length - 12, 8);
      batch.writeInt32BE(count, 57);
      batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0, CRC_OFFSET);
      out.push({ label: `${name} bomb (${payload.length} bytes -> ${inflatedBytes}, count ${count})`, batch });
    }
  }
  return out;
}

/** Valid batches (each codec) and legacy message sets (magic 0 and 1, plain and gzip) to corrupt. */
export async function corruptibleBatches(): Promise<Array<{ label: string; bytes: Buffer; magic: number }>> {
  const records = Array.from({ length: 5 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(40 + i, i + 1), headers: [{ key: 'h', value: Buffer.from('v') }] }));
  const out: Array<{ label: string; bytes: Buffer; magic: number }> = [];
  for (const [name, codec] of Object.entries(Compression)) {
    out.push({ label: `v2 ${name}`, bytes: await buildRecordBatch(records, { compression: codec, timestamp: 1_700_000_000_000 }), magic: 2 });
  }
  const legacy = records.map((r, i) => ({ offset: i, timestamp: 1_700_000_000_000, key: r.key, value: r.value }));
  for (const magic of [0, 1] as const) {
    out.push({ label: `magic ${magic}`, bytes: await encodeMessageSet(legacy, { magic }), magic });
    out.push({ label: `magic ${magic} gzip`, bytes: await encodeMessageSet(legacy, { magic, compression: Compression.gzip }), magic });
  }
  return out;
}
