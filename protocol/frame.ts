/**
 * Request and response frames: the int32 size prefix, the headers, the body.
 */
import { ProtocolError } from './errors.js';
import { Reader, Writer } from './primitives.js';
import { apiByKey, requestHeaderVersion, responseHeaderVersion, type ApiDef } from './apis.js';
import { decodeFrom, encodeChunks } from './codec.js';
import type { FrameChunk, MessageDef, MessageInput, MessageValue } from './schema.js';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
}

/** Reads api key, version and correlation id without parsing the rest (for error answers). */
export function peekRequestHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number } {
  if (frame.length < 8) throw new ProtocolError('request shorter than its header');
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}

/**
 * Parses a request header (v1 or v2, chosen by the API version) from a frame
 * without its size prefix; the reader is left at the start of the body.
 * Throws ProtocolError for an unknown API key or a version the schema lacks.
 */
export function readRequestHeader(r: Reader): RequestHeader & { api: ApiDef } {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const api = apiByKey(apiKey);
  if (!api) throw new ProtocolError(`unknown api key ${apiKey}`, 35);
  if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
    throw new ProtocolError(`${api.name} has no version ${apiVersion}`, 35);
  }
  const clientId = r.string(true);
  if (requestHeaderVersion(api, apiVersion) === 2) skipTaggedFields(r);
  return { api, apiKey, apiVersion, correlationId, clientId };
}

function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.need(r.uvarint());
  }
}

export interface DecodedRequest extends RequestHeader {
  readonly api: ApiDef;
  readonly body: Record<string, unknown>;
}

/** Decodes a whole request frame (without its size prefix). */
export function decodeRequestFrame(frame: Buffer): DecodedRequest {
  const r = new Reader(frame);
  const header = readRequestHeader(r);
  const body = decodeFrom(header.api.request, header.apiVersion, r) as Record<string, unknown>;
  return { ...header, body };
}

/** Encodes a request as frame chunks: size prefix, header v1/v2, body. */
export function encodeRequestFrame<M extends MessageDef>(
  def: M,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: MessageInput<M> | MessageValue<M>,
): Buffer[] {
  const api = apiByKey(def.apiKey)!;
  const flexibleHeader = requestHeaderVersion(api, version) === 2;
  const clientIdLength = clientId === null ? 0 : Buffer.byteLength(clientId);
  const headerSize = 4 + 2 + 2 + 4 + 2 + clientIdLength + (flexibleHeader ? 1 : 0);
  const chunks = encodeChunks(def, version, body, headerSize, (w: Writer, total: number) => {
    w.int32(total - 4);
    w.int16(def.apiKey);
    w.int16(version);
    w.int32(correlationId);
    if (clientId === null) w.int16(-1);
    else {
      w.int16(clientIdLength);
      w.utf8(clientId, clientIdLength);
    }
    if (flexibleHeader) w.uvarint(0);
  });
  for (const c of chunks) if (!Buffer.isBuffer(c)) throw new ProtocolError('a request carries its records as bytes');
  return chunks as Buffer[];
}

/**
 * Encodes a response as frame chunks: size prefix, header v0/v1, body (record sections as their own chunks,
 * lazy ones included).
 */
export function encodeResponseFrame<M extends MessageDef>(
  def: M,
  version: number,
  correlationId: number,
  body: MessageInput<M> | MessageValue<M>,
): FrameChunk[] {
  const api = apiByKey(def.apiKey)!;
  const flexibleHeader = responseHeaderVersion(api, version) === 1;
  const headerSize = 4 + 4 + (flexibleHeader ? 1 : 0);
  return encodeChunks(def, version, body, headerSize, (w: Writer, total: number) => {
    w.int32(total - 4);
    w.int32(correlationId);
    if (flexibleHeader) w.uvarint(0);
  });
}

/** Decodes a response frame (without its size prefix) for a request of `def` at `version`. */
export function decodeResponseFrame<M extends MessageDef>(
  def: M,
  version: number,
  frame: Buffer,
): { correlationId: number; body: MessageValue<M> } {
  const api = apiByKey(def.apiKey)!;
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (responseHeaderVersion(api, version) === 1) skipTaggedFields(r);
  return { correlationId, body: decodeFrom(def, version, r) };
}
