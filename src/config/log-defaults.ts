/**
 * The broker-level defaults of every topic's log configuration
 * (log.segment.bytes → segment.bytes, …), resolved through the topic config table,
 * and the log cleaner's settings (log.cleaner.*).
 */
import type { CleanerOptions, LogConfig } from '../../storage/index.js';
import type { ConfigView } from './broker-config.js';
import { resolveTopicConfig } from './topic-configs.js';

export function logDefaultsOf(config: ConfigView): LogConfig {
  return resolveTopicConfig(config, new Map()).log;
}

export function cleanerOptionsOf(config: ConfigView): CleanerOptions {
  return {
    enable: config.bool('log.cleaner.enable'),
    backoffMs: config.long('log.cleaner.backoff.ms'),
    dedupeBufferSize: config.long('log.cleaner.dedupe.buffer.size'),
    dedupeBufferLoadFactor: Number(config.get('log.cleaner.io.buffer.load.factor')),
    ioBufferSize: config.int('log.cleaner.io.buffer.size'),
    ioMaxBytesPerSecond: Number(config.get('log.cleaner.io.max.bytes.per.second')),
    producerIdExpirationMs: config.long('producer.id.expiration.ms'),
    maxDecompressedBytes: config.int('gregor.max.decompressed.bytes'),
  };
}
