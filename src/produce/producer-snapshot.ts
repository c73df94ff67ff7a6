/**
 * Producer state snapshots: `<20-digit offset>.snapshot` in the partition directory, next to the segments.
 * A snapshot holds the producer state of the partition as of that offset (every batch below it, none at or
 * above it). The manager writes one when a segment is rolled (at the new segment's base offset), after
 * rebuilding state from the log at load, and at clean shutdown (at the log end offset). Storage deletes the
 * snapshot at a segment's base offset together with that segment; other stale snapshots are pruned by the
 * manager. Written atomically (temp file, fsync, rename, fsync of the directory).
 *
 * Our own binary format, big-endian (not Kafka's, which keeps only the last batch of each producer; version 2
 * carries Kafka's two transaction fields, coordinator_epoch and current_txn_first_offset, with their meaning):
 *
 *   int16   version                2 (1: the same without the two transaction fields)
 *   uint32  crc                    CRC-32C of every byte after this field
 *   int32   producer count
 *   producer count x:
 *     int64   producer id
 *     int16   epoch
 *     int64   last timestamp       timestamp of the producer's last batch (expiry)
 *     int8    batch count          0..5, oldest first, all of this epoch
 *     batch count x:
 *       int32   first sequence
 *       int32   last sequence
 *       int64   first offset
 *       int64   last offset
 *       int64   timestamp          the batch's maxTimestamp as stored
 *     int32   coordinator epoch    (v2) epoch of the coordinator of the producer's last marker, -1 before any
 *     int64   current txn first offset  (v2) first offset of the ongoing transaction, -1 when there is none
 *
 * Evolution: a reader refuses versions it does not know (the snapshot is then ignored and state is rebuilt
 * from the log); a new version may append fields to each entry. Version 1 files (written before transactions)
 * still load, with no coordinator epoch and no ongoing transaction; only version 2 is written.
 */
import { crc32c, readInt64, writeInt64 } from '../../protocol/records/index.js';
import { segmentFileName } from '../../storage/index.js';
import { BATCHES_TO_RETAIN, type ProducerEntry, type ProducerTable } from './producer-state.js';

export const SNAPSHOT_VERSION = 2;
export const SNAPSHOT_SUFFIX = '.snapshot';
const HEADER_BYTES = 2 + 4 + 4;
const ENTRY_BYTES = 8 + 2 + 8 + 1;
const BATCH_BYTES = 4 + 4 + 8 + 8 + 8;
/** Version 2's fields after the batches of an entry. */
const TXN_BYTES = 4 + 8;
const CRC_START = 6;

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

export function snapshotFileName(offset: number): string {
  return `${segmentFileName(offset)}${SNAPSHOT_SUFFIX}`;
}

/** The offset a `<20 digits>.snapshot` file name stands for, or null for any other name. */
export function parseSnapshotFileName(name: string): number | null {
  const m = /^(\d{20})\.snapshot$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function encodeSnapshot(table: ProducerTable): Buffer {
  let size = HEADER_BYTES;
  for (const e of table.values()) size += ENTRY_BYTES + BATCH_BYTES * e.batches.length + TXN_BYTES;
  const buf = Buffer.allocUnsafe(size);
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  buf.writeInt32BE(table.size, CRC_START);
  let pos = HEADER_BYTES;
  for (const e of table.values()) {
    writeInt64(buf, pos, e.producerId);
    buf.writeInt16BE(e.epoch, pos + 8);
    writeInt64(buf, pos + 10, e.lastTimestamp);
    buf.writeInt8(e.batches.length, pos + 18);
    pos += ENTRY_BYTES;
    for (const b of e.batches) {
      buf.writeInt32BE(b.firstSeq, pos);
      buf.writeInt32BE(b.lastSeq, pos + 4);
      writeInt64(buf, pos + 8, b.firstOffset);
      writeInt64(buf, pos + 16, b.lastOffset);
      writeInt64(buf, pos + 24, b.timestamp);
      pos += BATCH_BYTES;
    }
    buf.writeInt32BE(e.coordinatorEpoch, pos);
    writeInt64(buf, pos + 4, e.currentTxnFirstOffset);
    pos += TXN_BYTES;
  }
  buf.writeUInt32BE(crc32c(buf.subarray(CRC_START)) >>> 0, 2);
  return buf;
}

/** Reads a snapshot file's bytes; throws SnapshotFormatError when it is not a complete, intact version 1 or 2 snapshot. */
export function decodeSnapshot(buf: Buffer): ProducerEntry[] {
  if (buf.length < HEADER_BYTES) throw new SnapshotFormatError(`snapshot of ${buf.length} bytes is shorter than its header`);
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION && version !== 1) throw new SnapshotFormatError(`unknown snapshot version ${version}`);
  const stored = buf.readUInt32BE(2);
  const computed = crc32c(buf.subarray(CRC_START)) >>> 0;
  if (stored !== computed) throw new SnapshotFormatError(`snapshot CRC ${stored} does not match its contents (${computed})`);
  const count = buf.readInt32BE(CRC_START);
  if (count < 0) throw new SnapshotFormatError(`negative producer count ${count}`);
  const entries: ProducerEntry[] = [];
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + ENTRY_BYTES > buf.length) throw new SnapshotFormatError(`snapshot ends inside producer ${i} of ${count}`);
    const producerId = readInt64(buf, pos);
    const epoch = buf.readInt16BE(pos + 8);
    const lastTimestamp = readInt64(buf, pos + 10);
    const n = buf.readInt8(pos + 18);
    pos += ENTRY_BYTES;
    if (producerId < 0 || n < 0 || n > BATCHES_TO_RETAIN) throw new SnapshotFormatError(`malformed entry for producer ${producerId} (${n} batches)`);
    if (pos + n * BATCH_BYTES > buf.length) throw new SnapshotFormatError(`snapshot ends inside the batches of producer ${producerId}`);
    const batches = [];
    for (let j = 0; j < n; j++) {
      batches.push({
        firstSeq: buf.readInt32BE(pos),
        lastSeq: buf.readInt32BE(pos + 4),
        firstOffset: readInt64(buf, pos + 8),
        lastOffset: readInt64(buf, pos + 16),
        timestamp: readInt64(buf, pos + 24),
      });
      pos += BATCH_BYTES;
    }
    let coordinatorEpoch = -1;
    let currentTxnFirstOffset = -1;
    if (version >= 2) {
      if (pos + TXN_BYTES > buf.length) throw new SnapshotFormatError(`snapshot ends inside the transaction fields of producer ${producerId}`);
      coordinatorEpoch = buf.readInt32BE(pos);
      currentTxnFirstOffset = readInt64(buf, pos + 4);
      pos += TXN_BYTES;
      if (currentTxnFirstOffset < -1) throw new SnapshotFormatError(`malformed transaction first offset ${currentTxnFirstOffset} of producer ${producerId}`);
    }
    entries.push({ producerId, epoch, lastTimestamp, batches, coordinatorEpoch, currentTxnFirstOffset });
  }
  if (pos !== buf.length) throw new SnapshotFormatError(`${buf.length - pos} unexpected bytes after ${count} producers`);
  return entries;
}
