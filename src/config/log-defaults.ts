/**
 * The broker-level defaults of every topic's log configuration
 * (log.segment.bytes → segment.bytes, …), resolved through the topic config table.
 */
import type { LogConfig } from '../../storage/index.js';
import type { BrokerConfig } from './broker-config.js';
import { resolveTopicConfig } from './topic-configs.js';

export function logDefaultsOf(config: BrokerConfig): LogConfig {
  return resolveTopicConfig(config, new Map()).log;
}
