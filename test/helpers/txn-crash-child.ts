/**
 * The broker process of the transaction crash tests (test/helpers/txn-crash.ts starts it; plain node runs it,
 * transpiled): startBroker from dist/ over storage's FaultyFs, which dies at an exact step of a transaction's
 * end. Every write to a log file is looked at before it is made; the first one that writes the chosen
 * record (or the n-th) ends the process, just before or just after the write:
 * - `prepare`: a `__transaction_state` record in PrepareCommit or PrepareAbort;
 * - `complete`: a `__transaction_state` record in CompleteCommit or CompleteAbort;
 * - `marker`: a COMMIT or ABORT control batch to any other partition.
 * The end is SIGKILL of the process itself (kill -9: the page cache keeps every write made so far), or with
 * `power`, a power cut first (FaultyFs.crash: every write not yet fsync'ed is dropped from the files) and then
 * SIGKILL. The kill comes inside the write call, so nothing the broker would do after it happens.
 * With `hold`, the broker does not die there: from that write on, every fdatasync waits (a stalled disk),
 * until SIGTERM stops the broker cleanly (a shutdown in the middle of the step; the waits end 200 ms into it).
 * Without a crash point the broker runs until it is killed, or stops cleanly on SIGTERM.
 *
 * Environment: GREGOR_INDEX, GREGOR_STORAGE, GREGOR_RECORDS, GREGOR_TXN_LOG (dist/ modules), GREGOR_TXN_CRASH
 * (JSON: dataDir, config, point?). Prints `ready: listening on 127.0.0.1:<port>`, and `crash: <what>` just
 * before it dies at its point (`held: <what>` when it stalls there instead).
 */

export interface TxnCrashPoint {
  readonly at: 'prepare' | 'complete' | 'marker';
  readonly when: 'before' | 'after';
  /** A power cut (unsynced writes dropped) instead of a plain kill -9. */
  readonly power: boolean;
  /** The n-th write of such a record (default the first). */
  readonly nth?: number;
  /** Instead of dying: stall every fdatasync from the write on (after it), until SIGTERM. */
  readonly hold?: boolean;
}

export interface TxnCrashChildOptions {
  readonly dataDir: string;
  readonly config: Record<string, string | number | boolean>;
  readonly point?: TxnCrashPoint;
}

// (types only, written as import types: the child's module graph is this file alone, the rest comes from dist/)
type OpenFlags = import('../../storage/index.js').OpenFlags;
type BrokerModule = typeof import('../../src/index.js');
type StorageModule = typeof import('../../storage/index.js');
type RecordsModule = typeof import('../../protocol/records/index.js');
type TxnLogModule = typeof import('../../src/coordinator/transaction/transaction-log.js');

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} not set`);
  return v;
};

const [{ startBroker }, { FaultyFs }, records, txnLog] = (await Promise.all([
  import(env('GREGOR_INDEX')),
  import(env('GREGOR_STORAGE')),
  import(env('GREGOR_RECORDS')),
  import(env('GREGOR_TXN_LOG')),
])) as [BrokerModule, StorageModule, RecordsModule, TxnLogModule];
const opts = JSON.parse(env('GREGOR_TXN_CRASH')) as TxnCrashChildOptions;

/** Transaction status ids (TransactionLogValue): PrepareCommit 2, PrepareAbort 3, CompleteCommit 4, CompleteAbort 5. */
const PREPARE = new Set([2, 3]);
const COMPLETE = new Set([4, 5]);

/** What a write to a partition's .log holds, as far as the crash point cares. */
function writes(path: string, buf: Buffer): Array<{ at: TxnCrashPoint['at']; what: string }> {
  const found: Array<{ at: TxnCrashPoint['at']; what: string }> = [];
  const dir = path.split('/').slice(-2, -1)[0] ?? '';
  const stateLog = dir.startsWith('__transaction_state-');
  let pos = 0;
  while (buf.length - pos >= records.RECORD_BATCH_OVERHEAD) {
    const size = records.entrySizeAt(buf, pos);
    if (size <= 0 || pos + size > buf.length) break;
    const h = records.readBatchHeader(buf, pos);
    if (stateLog && (h.attributes & records.ATTR_COMPRESSION_MASK) === 0) {
      for (const r of records.iterateRecords(h, buf.subarray(pos + records.RECORD_BATCH_OVERHEAD, pos + size))) {
        if (r.value === null) continue;
        const v = txnLog.parseTransactionLogValue(r.value);
        const at = PREPARE.has(v.transactionStatus) ? 'prepare' : COMPLETE.has(v.transactionStatus) ? 'complete' : undefined;
        if (at) found.push({ at, what: `${dir} status ${v.transactionStatus} producer ${v.producerId}/${v.producerEpoch}` });
      }
    } else if (!stateLog) {
      const m = records.readTransactionMarker(buf, pos);
      if (m) found.push({ at: 'marker', what: `${dir} ${m.commit ? 'COMMIT' : 'ABORT'} producer ${m.producerId}/${m.producerEpoch}` });
    }
    pos += size;
  }
  return found;
}

/** FaultyFs that watches the writes to .log files for the crash point. */
class CrashPointFs extends FaultyFs {
  private readonly paths = new Map<number, string>();
  private seen = 0;
  private readonly holds: Array<{ release(): void }> = [];

  constructor(private readonly point: TxnCrashPoint | undefined) {
    super();
  }

  override open(path: string, flags: OpenFlags): number {
    const fd = super.open(path, flags);
    this.paths.set(fd, path);
    return fd;
  }

  override close(fd: number): void {
    this.paths.delete(fd);
    super.close(fd);
  }

  override write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    const path = this.paths.get(fd) ?? '';
    const point = this.point;
    const found = point && path.endsWith('.log') ? writes(path, buffer.subarray(offset, offset + length)).find((w) => w.at === point.at) : undefined;
    const hit = found && ++this.seen === (point?.nth ?? 1) ? found : undefined;
    if (hit && point?.hold) {
      const n = super.write(fd, buffer, offset, length, position);
      this.holds.push(this.hold('fdatasync'));
      process.stdout.write(`held: every fdatasync after the write of ${hit.what}\n`);
      return n;
    }
    if (hit && point?.when === 'before') this.die(hit.what);
    const n = super.write(fd, buffer, offset, length, position);
    if (hit) this.die(hit.what);
    return n;
  }

  releaseHolds(): void {
    for (const h of this.holds.splice(0)) h.release();
  }

  private die(what: string): never {
    process.stdout.write(`crash: ${this.point?.power ? 'power cut' : 'kill -9'} ${this.point?.when} the write of ${what}\n`);
    if (this.point?.power) this.crash();
    process.kill(process.pid, 'SIGKILL');
    throw new Error('unreachable: SIGKILL delivered');
  }
}

const fs = new CrashPointFs(opts.point);
const b = await startBroker({ port: 0, dataDir: opts.dataDir, config: opts.config, logLevel: 'warn', storageFs: fs });
process.on('SIGTERM', () => {
  // the stalled disk comes back a moment after the shutdown began
  setTimeout(() => fs.releaseHolds(), 200);
  b.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
process.stdout.write(`ready: listening on 127.0.0.1:${b.port}\n`);
