/**
 * Records in Fetch record sections, from the entry headers only: a v2 batch counts its recordCount, a
 * legacy (magic 0/1) message counts one (a compressed wrapper too: its inner messages are not opened). A
 * partial entry at the end of a section (a response cut at its size limit) is not counted.
 */
import { entrySizeAt, LOG_OVERHEAD, MAGIC_OFFSET } from '../../protocol/records/index.js';

/** Offset of recordCount in a v2 batch header. */
const RECORD_COUNT_OFFSET = 57;

export function countRecords(sections: readonly Buffer[]): number {
  let n = 0;
  for (const buf of sections) {
    let pos = 0;
    for (;;) {
      const size = entrySizeAt(buf, pos);
      if (size < LOG_OVERHEAD || pos + size > buf.length || size <= MAGIC_OFFSET) break;
      n += buf[pos + MAGIC_OFFSET] === 2 ? (size > RECORD_COUNT_OFFSET + 4 ? buf.readInt32BE(pos + RECORD_COUNT_OFFSET) : 0) : 1;
      pos += size;
    }
  }
  return n;
}
