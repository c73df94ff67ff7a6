/**
 * Records of the internal topic `__transaction_state`, byte for byte as Kafka
 * writes them (TransactionLogKey / TransactionLogValue), so tools that read
 * the topic (kafka-dump-log --transaction-log-decoder) understand ours, and a
 * data directory moved between Kafka and Gregor keeps its transactions.
 *
 * Every key and value is a big-endian int16 version followed by the struct of
 * that version, encoded with the ordinary codec (the structs are "data"
 * messages: the schema language with apiKey -1).
 *
 * Key, version 0 (the only one; Kafka calls the version the coordinator
 * record type, and 0 is TRANSACTION_LOG): the transactional id, an int16
 * length and its UTF-8 bytes. A key of another version is not a transaction
 * record (`unknown`).
 *
 * Value, version 0 (what Kafka 3.9 writes: transaction.version 0 has no
 * flexible records), non-flexible:
 *
 *   int64  producer id
 *   int16  producer epoch
 *   int32  transaction timeout (ms)
 *   int8   transaction status (transaction-state.ts: Empty 0 ... PrepareEpochFence 7)
 *   array  partitions, int32 count or -1 for null (an Empty transaction writes null):
 *            string topic, array of int32 partition ids
 *   int64  last update timestamp (ms)
 *   int64  start timestamp (ms; -1 when no transaction has started)
 *
 * Value version 1 (Kafka 4's transaction.version 2) is the same struct in
 * the flexible encoding (compact arrays and strings, a tagged-field section)
 * with three tagged fields: 0 previous producer id, 1 next producer id (both
 * default -1), 2 client transaction version (default 0). Gregor reads it, and
 * writes it for the transitions of transaction version 2 clients (version 0
 * for the others; transaction-records.ts). A null value is the tombstone of the transactional id
 * (written when it expires). Other value versions throw (Kafka refuses them
 * too).
 */
import { ProtocolError, message } from '../../../protocol/index.js';
import { decodeVersioned, encodeVersioned, versionOf } from '../versioned-record.js';

const transactionLogKeySchema = message({
  name: 'TransactionLogKey',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: 'none',
  fields: [{ name: 'transactionalId', type: 'string', versions: '0' }],
});

const transactionLogValueSchema = message({
  name: 'TransactionLogValue',
  apiKey: -1,
  kind: 'response',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'previousProducerId', type: 'int64', versions: '1+', tag: 0, tagged: '1+', default: -1n, ignorable: true },
    { name: 'nextProducerId', type: 'int64', versions: '1+', tag: 1, tagged: '1+', default: -1n, ignorable: true },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'transactionStatus', type: 'int8', versions: '0+' },
    { name: 'transactionPartitions', type: '[]PartitionsSchema', versions: '0+', nullable: '0+', fields: [
      { name: 'topic', type: 'string', versions: '0+' },
      { name: 'partitionIds', type: '[]int32', versions: '0+' },
    ] },
    { name: 'transactionLastUpdateTimestampMs', type: 'int64', versions: '0+' },
    { name: 'transactionStartTimestampMs', type: 'int64', versions: '0+' },
    { name: 'clientTransactionVersion', type: 'int16', versions: '1+', tag: 2, tagged: '1+', default: 0, ignorable: true },
  ],
});

/** The key version of a transaction record (Kafka's CoordinatorRecordType.TRANSACTION_LOG). */
export const TRANSACTION_LOG_KEY_VERSION = 0;
/** The value version Kafka 3.9 writes (transaction.version 0). */
export const TRANSACTION_LOG_VALUE_VERSION = 0;

/** The partitions of one topic in a transaction. */
export interface TransactionLogPartitions {
  readonly topic: string;
  readonly partitionIds: readonly number[];
}

/** A transaction's state as a value record holds it. */
export interface TransactionLogValue {
  readonly producerId: number;
  /** -1 unless read from a version 1 value that has it. */
  readonly previousProducerId: number;
  /** -1 unless read from a version 1 value that has it. */
  readonly nextProducerId: number;
  readonly producerEpoch: number;
  readonly transactionTimeoutMs: number;
  /** The TransactionState id (transaction-state.ts). */
  readonly transactionStatus: number;
  /** null as written for an Empty transaction. */
  readonly transactionPartitions: readonly TransactionLogPartitions[] | null;
  readonly transactionLastUpdateTimestampMs: number;
  readonly transactionStartTimestampMs: number;
  /** 0 unless read from a version 1 value that has it. */
  readonly clientTransactionVersion: number;
}

export type TransactionLogKey =
  | { readonly kind: 'transaction'; readonly transactionalId: string }
  | { readonly kind: 'unknown'; readonly version: number };



export function transactionLogKey(transactionalId: string): Buffer {
  return encodeVersioned(transactionLogKeySchema, TRANSACTION_LOG_KEY_VERSION, { transactionalId });
}

/** Parses a record key; other versions (not a transaction record) come back as `unknown`. */
export function parseTransactionLogKey(buf: Buffer): TransactionLogKey {
  const version = versionOf(buf, 'transaction log key');
  if (version !== TRANSACTION_LOG_KEY_VERSION) return { kind: 'unknown', version };
  return { kind: 'transaction', transactionalId: decodeVersioned(transactionLogKeySchema, version, buf).transactionalId };
}

/** Encodes a value at Kafka 3.9's version (0) unless told otherwise (0-1). */
export function transactionLogValue(v: TransactionLogValue, version = TRANSACTION_LOG_VALUE_VERSION): Buffer {
  return encodeVersioned(transactionLogValueSchema, version, {
    producerId: BigInt(v.producerId),
    previousProducerId: BigInt(v.previousProducerId),
    nextProducerId: BigInt(v.nextProducerId),
    producerEpoch: v.producerEpoch,
    transactionTimeoutMs: v.transactionTimeoutMs,
    transactionStatus: v.transactionStatus,
    transactionPartitions: v.transactionPartitions === null ? null : v.transactionPartitions.map((p) => ({ topic: p.topic, partitionIds: [...p.partitionIds] })),
    transactionLastUpdateTimestampMs: BigInt(v.transactionLastUpdateTimestampMs),
    transactionStartTimestampMs: BigInt(v.transactionStartTimestampMs),
    clientTransactionVersion: v.clientTransactionVersion,
  });
}

/** Decodes a value of version 0 or 1 (trailing bytes are ignored, as Kafka does); throws for other versions. */
export function parseTransactionLogValue(buf: Buffer): TransactionLogValue {
  const version = versionOf(buf, 'transaction log value');
  if (version < 0 || version > 1) throw new ProtocolError(`unknown transaction log value version ${version}`);
  const v = decodeVersioned(transactionLogValueSchema, version, buf);
  return {
    producerId: Number(v.producerId),
    previousProducerId: Number(v.previousProducerId),
    nextProducerId: Number(v.nextProducerId),
    producerEpoch: v.producerEpoch,
    transactionTimeoutMs: v.transactionTimeoutMs,
    transactionStatus: v.transactionStatus,
    transactionPartitions: v.transactionPartitions === null ? null : v.transactionPartitions.map((p) => ({ topic: p.topic, partitionIds: [...p.partitionIds] })),
    transactionLastUpdateTimestampMs: Number(v.transactionLastUpdateTimestampMs),
    transactionStartTimestampMs: Number(v.transactionStartTimestampMs),
    clientTransactionVersion: v.clientTransactionVersion,
  };
}
