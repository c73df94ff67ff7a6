/**
 * The framing of every internal-topic record key and value Kafka writes
 * (`__consumer_offsets`, `__transaction_state`, `__share_group_state`): an
 * int16 version, then the schema's struct at that version. Trailing bytes
 * after the struct are ignored, as Kafka does.
 */
import { decode, encode, ProtocolError, Writer, type MessageDef, type MessageValue } from '../../protocol/index.js';

/** The int16 version, then `value` encoded at that version. */
export function encodeVersioned<M extends MessageDef>(def: M, version: number, value: MessageValue<M>): Buffer {
  const body = encode(def, version, value);
  const out = Writer.alloc(2 + body.length);
  out.int16(version);
  out.raw(body);
  return out.buf;
}

/** The leading int16 version; `what` names the key or value in the error when the bytes are too short. */
export function versionOf(buf: Buffer, what: string): number {
  if (buf.length < 2) throw new ProtocolError(`${what} shorter than its version`);
  return buf.readInt16BE(0);
}

/** The struct after the int16 version. */
export function decodeVersioned<M extends MessageDef>(def: M, version: number, buf: Buffer): MessageValue<M> {
  return decode(def, version, buf, 2);
}

/** The value's version, refused unless it is `expected` (the one version Kafka writes and reads). */
export function expectValueVersion(buf: Buffer, what: string, expected: number): number {
  const version = versionOf(buf, `${what} value`);
  if (version !== expected) throw new ProtocolError(`unknown ${what} value version ${version}`);
  return version;
}
