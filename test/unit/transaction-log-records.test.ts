/**
 * The records of `__transaction_state` byte for byte: the key (version 0) and
 * the value (version 0 as Kafka 3.9 writes it, version 1 flexible with its
 * tagged fields) against layouts assembled field by field from Kafka's
 * TransactionLogKey/TransactionLogValue schemas (int16 version prefix, then
 * the struct with the ordinary primitives).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/index.js';
import {
  parseTransactionLogKey,
  parseTransactionLogValue,
  transactionLogKey,
  transactionLogValue,
  type TransactionLogValue,
} from '../../src/coordinator/transaction/transaction-log.js';

// ---- a tiny independent assembler for the expected bytes
const i8 = (v: number): Buffer => Buffer.from([v & 0xff]);
const i16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const i32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const i64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};
const str = (s: string): Buffer => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
const uvar = (n: number): Buffer => Buffer.from([n]); // every length here is < 128
const compactStr = (s: string): Buffer => Buffer.concat([uvar(Buffer.byteLength(s) + 1), Buffer.from(s)]);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

const ongoing: TransactionLogValue = {
  producerId: 4001,
  previousProducerId: -1,
  nextProducerId: -1,
  producerEpoch: 3,
  transactionTimeoutMs: 60_000,
  transactionStatus: 1, // Ongoing
  transactionPartitions: [
    { topic: 'orders', partitionIds: [0, 2] },
    { topic: 'pay', partitionIds: [5] },
  ],
  transactionLastUpdateTimestampMs: 1_700_000_000_500,
  transactionStartTimestampMs: 1_700_000_000_000,
  clientTransactionVersion: 0,
};

describe('__transaction_state keys', () => {
  it('writes version 0: the transactional id as an int16-length string', () => {
    expect(transactionLogKey('tx-1')).toEqual(cat(i16(0), str('tx-1')));
  });

  it('reads version 0 keys and reports other versions (another coordinator record type) as unknown', () => {
    expect(parseTransactionLogKey(cat(i16(0), str('app-tx')))).toEqual({ kind: 'transaction', transactionalId: 'app-tx' });
    expect(parseTransactionLogKey(cat(i16(1), str('x')))).toEqual({ kind: 'unknown', version: 1 });
  });

  it('refuses a key shorter than its version', () => {
    expect(() => parseTransactionLogKey(Buffer.from([0]))).toThrow(ProtocolError);
  });
});

describe('__transaction_state values', () => {
  it('writes version 0: pid, epoch, timeout, int8 status, partitions by topic, last update, start', () => {
    const expected = cat(
      i16(0),
      i64(4001),
      i16(3),
      i32(60_000),
      i8(1),
      i32(2),
      str('orders'),
      i32(2),
      i32(0),
      i32(2),
      str('pay'),
      i32(1),
      i32(5),
      i64(1_700_000_000_500),
      i64(1_700_000_000_000),
    );
    expect(transactionLogValue(ongoing)).toEqual(expected);
    expect(parseTransactionLogValue(expected)).toEqual(ongoing);
  });

  it('writes the partitions of an Empty transaction as a null array (-1) and a start of -1', () => {
    const empty: TransactionLogValue = { ...ongoing, transactionStatus: 0, transactionPartitions: null, transactionStartTimestampMs: -1 };
    const expected = cat(i16(0), i64(4001), i16(3), i32(60_000), i8(0), i32(-1), i64(1_700_000_000_500), i64(-1));
    expect(transactionLogValue(empty)).toEqual(expected);
    expect(parseTransactionLogValue(expected)).toEqual(empty);
  });

  it('reads a status byte above 127 as a signed int8 (so an unknown state is refused later, not misread)', () => {
    const bytes = cat(i16(0), i64(1), i16(0), i32(1000), i8(0xff), i32(-1), i64(5), i64(-1));
    expect(parseTransactionLogValue(bytes).transactionStatus).toBe(-1);
  });

  it('reads version 1 (flexible): compact arrays and strings, and the tagged previous/next producer ids and client version', () => {
    const tagged = cat(
      uvar(3),
      uvar(0), uvar(8), i64(3999), // previous producer id
      uvar(1), uvar(8), i64(4002), // next producer id
      uvar(2), uvar(2), i16(2), // client transaction version
    );
    const bytes = cat(
      i16(1),
      i64(4001),
      i16(3),
      i32(60_000),
      i8(2),
      uvar(2), compactStr('orders'), uvar(3), i32(0), i32(2), uvar(0),
      i64(1_700_000_000_500),
      i64(1_700_000_000_000),
      tagged,
    );
    expect(parseTransactionLogValue(bytes)).toEqual({
      ...ongoing,
      transactionStatus: 2,
      transactionPartitions: [{ topic: 'orders', partitionIds: [0, 2] }],
      previousProducerId: 3999,
      nextProducerId: 4002,
      clientTransactionVersion: 2,
    });
  });

  it('writes version 1 without tagged fields when they hold their defaults', () => {
    const bytes = transactionLogValue({ ...ongoing, transactionPartitions: [{ topic: 'pay', partitionIds: [5] }] }, 1);
    expect(bytes).toEqual(
      cat(i16(1), i64(4001), i16(3), i32(60_000), i8(1), uvar(2), compactStr('pay'), uvar(2), i32(5), uvar(0), i64(1_700_000_000_500), i64(1_700_000_000_000), uvar(0)),
    );
  });

  it('refuses value versions other than 0 and 1', () => {
    expect(() => parseTransactionLogValue(cat(i16(2), i64(1)))).toThrow(ProtocolError);
    expect(() => parseTransactionLogValue(cat(i16(-1), i64(1)))).toThrow(ProtocolError);
  });
});
