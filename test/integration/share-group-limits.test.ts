/**
 * The bounds of the group.share.* broker configs, checked at start as Kafka's
 * GroupCoordinatorConfig and ShareGroupConfig check them: a broker given a
 * combination Kafka refuses does not start (ConfigError with Kafka's words),
 * and a value outside its own range is refused too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/broker-config.js';
import { startBroker } from '../../src/index.js';

describe('group.share.* bounds at start', () => {
  const cases: Array<[Record<string, number>, string]> = [
    [{ 'group.share.min.heartbeat.interval.ms': 6000, 'group.share.max.heartbeat.interval.ms': 5500 }, 'group.share.max.heartbeat.interval.ms: 5500 (from overrides) must be greater than or equal to group.share.min.heartbeat.interval.ms (6000 (from overrides))'],
    [{ 'group.share.heartbeat.interval.ms': 1000 }, 'group.share.heartbeat.interval.ms: 1000 (from overrides) must be greater than or equal to group.share.min.heartbeat.interval.ms (5000)'],
    [{ 'group.share.heartbeat.interval.ms': 20000 }, 'group.share.heartbeat.interval.ms: 20000 (from overrides) must be less than or equal to group.share.max.heartbeat.interval.ms (15000)'],
    [{ 'group.share.min.session.timeout.ms': 50000, 'group.share.max.session.timeout.ms': 48000, 'group.share.session.timeout.ms': 49000 }, 'group.share.max.session.timeout.ms: 48000 (from overrides) must be greater than or equal to group.share.min.session.timeout.ms (50000 (from overrides))'],
    [{ 'group.share.session.timeout.ms': 6000 }, 'group.share.session.timeout.ms: 6000 (from overrides) must be greater than or equal to group.share.min.session.timeout.ms (45000)'],
    [{ 'group.share.session.timeout.ms': 90000 }, 'group.share.session.timeout.ms: 90000 (from overrides) must be less than or equal to group.share.max.session.timeout.ms (60000)'],
    [{ 'group.share.min.session.timeout.ms': 1000, 'group.share.session.timeout.ms': 5000 }, 'group.share.heartbeat.interval.ms: 5000 must be less than group.share.session.timeout.ms (5000 (from overrides))'],
    [{ 'group.share.record.lock.duration.ms': 10000 }, 'group.share.record.lock.duration.ms: 10000 (from overrides) must be greater than or equal to group.share.min.record.lock.duration.ms (15000)'],
    [{ 'group.share.record.lock.duration.ms': 90000 }, 'group.share.max.record.lock.duration.ms: 60000 must be greater than or equal to group.share.record.lock.duration.ms (90000 (from overrides))'],
    [{ 'group.share.max.share.sessions': 100 }, 'group.share.max.share.sessions: 100 (from overrides) must be greater than or equal to group.share.max.size (200)'],
    // each value within its own range (Kafka's ConfigDef)
    [{ 'group.share.min.record.lock.duration.ms': 40000 }, 'group.share.min.record.lock.duration.ms: 40000 is above the maximum 30000 (from overrides)'],
    [{ 'group.share.max.record.lock.duration.ms': 20000 }, 'group.share.max.record.lock.duration.ms: 20000 is below the minimum 30000 (from overrides)'],
    [{ 'group.share.delivery.count.limit': 11 }, 'group.share.delivery.count.limit: 11 is above the maximum 10 (from overrides)'],
    [{ 'group.share.partition.max.record.locks': 50 }, 'group.share.partition.max.record.locks: 50 is below the minimum 100 (from overrides)'],
    [{ 'group.share.max.size': 1001 }, 'group.share.max.size: 1001 is above the maximum 1000 (from overrides)'],
  ];
  it.each(cases)('%o is refused', async (config, message) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-bounds-'));
    try {
      const started = startBroker({ dataDir, port: 0, config });
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(`invalid configuration ${message}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a lock duration, session timeout and heartbeat interval below Kafka\'s defaults start with their minima lowered', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-bounds-'));
    const config = {
      'group.share.record.lock.duration.ms': 1000,
      'group.share.min.record.lock.duration.ms': 1000,
      'group.share.session.timeout.ms': 1500,
      'group.share.min.session.timeout.ms': 1000,
      'group.share.heartbeat.interval.ms': 250,
      'group.share.min.heartbeat.interval.ms': 100,
      'group.share.max.share.sessions': 1,
      'group.share.max.size': 1,
    };
    try {
      const running = await startBroker({ dataDir, port: 0, config });
      await running.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
