import type { LogConfig } from './config.js';

export interface AppendOptions {
  leaderEpoch: number;
  /** When set, each batch gets the LogAppendTime attribute and this maxTimestamp. */
  logAppendTime?: number;
  /** Resolve only after fdatasync (acks=all with gregor.flush.acks.all). */
  sync?: boolean;
}
export interface AppendInfo {
  baseOffset: number;
  lastOffset: number;
  /** -1 unless logAppendTime was set. */
  appendTime: number;
  logStartOffset: number;
  recordCount: number;
  sizeInBytes: number;
}
export interface ReadResult {
  /** Whole batches, back to back. */
  chunks: Buffer[];
  size: number;
}
export interface TimestampOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export class PartitionLog {
  readonly topic: string = '';
  readonly partition: number = 0;
  readonly dir: string = '';
  get logStartOffset(): number { throw new Error('not implemented'); }
  get logEndOffset(): number { throw new Error('not implemented'); }
  get highWatermark(): number { throw new Error('not implemented'); }
  get sizeInBytes(): number { throw new Error('not implemented'); }
  get segmentCount(): number { throw new Error('not implemented'); }
  append(_batches: Buffer, _opts: AppendOptions): Promise<AppendInfo> { throw new Error('not implemented'); }
  read(_offset: number, _maxBytes: number, _maxOffset?: number): Promise<ReadResult> { throw new Error('not implemented'); }
  offsetForTimestamp(_timestamp: number): Promise<TimestampOffset | null> { throw new Error('not implemented'); }
  deleteRecordsBefore(_offset: number): Promise<number> { throw new Error('not implemented'); }
  truncateTo(_offset: number): Promise<void> { throw new Error('not implemented'); }
  endOffsetForEpoch(_epoch: number): { leaderEpoch: number; endOffset: number } { throw new Error('not implemented'); }
  onAppend(_listener: () => void): () => void { throw new Error('not implemented'); }
  updateConfig(_config: Partial<LogConfig>): void { throw new Error('not implemented'); }
  flush(): Promise<void> { throw new Error('not implemented'); }
  close(): Promise<void> { throw new Error('not implemented'); }
}
