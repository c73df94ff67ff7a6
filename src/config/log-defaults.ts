/**
 * The broker-level defaults of every topic's log configuration
 * (log.segment.bytes → segment.bytes, …).
 */
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../storage/index.js';
import { retentionMsOf, segmentMsOf, type BrokerConfig } from './broker-config.js';

export function logDefaultsOf(config: BrokerConfig): LogConfig {
  return {
    ...DEFAULT_LOG_CONFIG,
    segmentBytes: config.int('log.segment.bytes'),
    segmentMs: segmentMsOf(config),
    segmentIndexBytes: config.int('log.index.size.max.bytes'),
    indexIntervalBytes: config.int('log.index.interval.bytes'),
    retentionMs: retentionMsOf(config),
    retentionBytes: config.long('log.retention.bytes'),
    flushMessages: config.long('log.flush.interval.messages'),
    flushMs: config.optionalLong('log.flush.interval.ms') ?? Number.MAX_SAFE_INTEGER,
    fileDeleteDelayMs: config.long('log.segment.delete.delay.ms'),
    cleanupPolicy: config.list('log.cleanup.policy').join(','),
  };
}
