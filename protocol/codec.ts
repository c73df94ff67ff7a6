/**
 * Schema-driven codec: one mechanism for every version of every API. This
 * module is its public door (encode, encodeChunks, encodedSize, decode,
 * decodeFrom, isFlexible); the mechanism lives in codec/, in the order a
 * message goes through it:
 *
 * 1. codec/plan.ts — for a (message, version) pair the schema is worked out
 *    once into a plan: the fields present in that version, their encodings,
 *    defaults and tags;
 * 2. codec/generate.ts — each struct of the plan becomes three specialised
 *    functions (read, size, write) generated from it, so that decoding and
 *    encoding run straight-line code with fixed property names instead of
 *    interpreting the plan per value. The generated code is built only from
 *    our own schema modules, never from input;
 * 3. codec/tagged.ts — tagged fields, which are rare, go through a generic
 *    interpreter;
 * 4. codec/runtime.ts — the encoder state and value helpers all of them use.
 *
 * Encoding is two-pass: a size pass, then one allocation and a write pass.
 * `records` fields decode as slices of the input (no copy); `encodeChunks`
 * emits record bytes as separate chunks so that cached or file buffers go to
 * the socket without being concatenated, and record bytes still in a file
 * (LazyChunk) as placeholders of known length that the writer fills.
 *
 * The compiled functions of each (message, version) are made at its first
 * use and kept for the life of the process.
 */
import { ProtocolError } from './errors.js';
import { Reader, Writer } from './primitives.js';
import { inRange, parseVersions, type FrameChunk, type MessageDef, type MessageInput, type MessageValue } from './schema.js';
import { compileStruct } from './codec/generate.js';
import { planMessage, type Struct } from './codec/plan.js';
import type { CompiledStruct, Out } from './codec/runtime.js';

export { isFlexible } from './codec/plan.js';

const compiledCache = new WeakMap<MessageDef, Map<number, CompiledStruct>>();

function compiledFor(def: MessageDef, version: number): CompiledStruct {
  let byVersion = compiledCache.get(def);
  if (!byVersion) {
    byVersion = new Map();
    compiledCache.set(def, byVersion);
  }
  let compiled = byVersion.get(version);
  if (!compiled) {
    if (!inRange(parseVersions(def.valid), version)) {
      throw new ProtocolError(`${def.name} has no version ${version}`, 35);
    }
    compiled = compileStruct(planMessage(def, version));
    byVersion.set(version, compiled);
  }
  return compiled;
}

/** Decodes a message body; `records` fields are slices of `buf`. */
export function decode<M extends MessageDef>(def: M, version: number, buf: Buffer, start = 0, end = buf.length): MessageValue<M> {
  return compiledFor(def, version).read(new Reader(buf, start, end)) as MessageValue<M>;
}

/** Decodes a message body from a reader positioned at its start. */
export function decodeFrom<M extends MessageDef>(def: M, version: number, r: Reader): MessageValue<M> {
  return compiledFor(def, version).read(r) as MessageValue<M>;
}

/** Size in bytes of the encoded body. */
export function encodedSize<M extends MessageDef>(def: M, version: number, value: MessageInput<M> | MessageValue<M>): number {
  return compiledFor(def, version).size(value as Struct, false);
}

/** Encodes a message body into one buffer. */
export function encode<M extends MessageDef>(def: M, version: number, value: MessageInput<M> | MessageValue<M>): Buffer {
  const compiled = compiledFor(def, version);
  const size = compiled.size(value as Struct, false);
  const out: Out = { w: Writer.alloc(size), chunks: undefined, chunkStart: 0, recordBytes: 0 };
  compiled.write(out, value as Struct);
  if (out.w.pos !== size) throw new ProtocolError(`${def.name} v${version}: wrote ${out.w.pos} of ${size} bytes`);
  return out.w.buf;
}

/**
 * Encodes `prefix` bytes of room (filled by `fillPrefix`, e.g. a frame size and
 * header) followed by the body, as chunks: record sections are emitted as the
 * caller's own buffers (or lazy chunks), everything else comes from one
 * allocation.
 * `fillPrefix` gets a writer at offset 0 and the total size of all chunks; it
 * runs after the body is written and must write at most `prefixSize` bytes.
 */
export function encodeChunks<M extends MessageDef>(
  def: M,
  version: number,
  value: MessageInput<M> | MessageValue<M>,
  prefixSize = 0,
  fillPrefix?: (w: Writer, totalSize: number) => void,
): FrameChunk[] {
  const compiled = compiledFor(def, version);
  const ownSize = prefixSize + compiled.size(value as Struct, true);
  const w = Writer.alloc(ownSize);
  const chunks: FrameChunk[] = [];
  const out: Out = { w, chunks, chunkStart: 0, recordBytes: 0 };
  w.pos = prefixSize;
  compiled.write(out, value as Struct);
  if (w.pos !== ownSize) throw new ProtocolError(`${def.name} v${version}: wrote ${w.pos} of ${ownSize} bytes`);
  if (fillPrefix) {
    // the prefix is filled last, once the record bytes are counted; the chunks already view its memory
    w.pos = 0;
    fillPrefix(w, ownSize + out.recordBytes);
    w.pos = ownSize;
  }
  if (out.chunkStart < ownSize) chunks.push(w.buf.subarray(out.chunkStart, ownSize));
  return chunks;
}
