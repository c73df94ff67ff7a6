/**
 * Topic operations on a full disk (storage's FaultyFs with a free-space budget, under the logs and the metadata
 * file alike): CreateTopics answers KAFKA_STORAGE_ERROR for the topic, as IncrementalAlterConfigs does, keeps
 * the connection, leaves no gregor-metadata.json.tmp and no half-created topic, and creates the topic once
 * space is freed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { METADATA_FILE } from '../../src/metadata/metadata-store.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { DiskSpaceFs } from '../helpers/storage-faults.js';

const running: RunningBroker[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.close().catch(() => undefined);
});

function createTopic(c: RawClient, name: string, partitions = 2) {
  return c
    .request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    })
    .then((r) => r.topics[0]!);
}

async function topicNames(c: RawClient): Promise<string[]> {
  const res = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  return res.topics.map((t) => t.name!).sort();
}

describe('CreateTopics on a full disk', () => {
  it('answers KAFKA_STORAGE_ERROR, keeps the connection, leaves no .tmp, and creates the topic once space is freed', async () => {
    const fs = new DiskSpaceFs();
    const b = await startBroker({ port: 0, storageFs: fs, logLevel: 'silent' });
    running.push(b);
    const c = await RawClient.connect(b.port);
    try {
      expect((await createTopic(c, 'before')).errorCode).toBe(ErrorCode.NONE);
      const stored = readFileSync(join(b.dataDir, METADATA_FILE), 'utf8');

      // the metadata write is the one that does not fit, then nothing does
      for (const fill of [() => (fs.fullFor = /gregor-metadata\.json/), () => ((fs.fullFor = undefined), (fs.free = 0))]) {
        fill();
        const full = await createTopic(c, 'full');
        expect(full).toMatchObject({ name: 'full', errorCode: ErrorCode.KAFKA_STORAGE_ERROR });
        expect(full.errorMessage).toContain('ENOSPC');
        expect(c.isClosed).toBe(false);
        expect(existsSync(join(b.dataDir, `${METADATA_FILE}.tmp`))).toBe(false);
        expect(readFileSync(join(b.dataDir, METADATA_FILE), 'utf8')).toBe(stored);
        expect(await topicNames(c)).toEqual(['before']);
      }

      // kafkajs sees the same
      const kafka = new Kafka({ clientId: 'full-disk', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await expect(admin.createTopics({ topics: [{ topic: 'full-kafkajs' }] })).rejects.toMatchObject({
          errors: [expect.objectContaining({ type: 'KAFKA_STORAGE_ERROR' })],
        });
      } finally {
        await admin.disconnect();
      }

      // the metadata fits, the partition logs do not: the topic is rolled back
      fs.free = Number.POSITIVE_INFINITY;
      fs.fullFor = /partition\.metadata/;
      expect(await createTopic(c, 'half')).toMatchObject({ name: 'half', errorCode: ErrorCode.KAFKA_STORAGE_ERROR });
      expect(await topicNames(c)).toEqual(['before']);
      expect(JSON.parse(readFileSync(join(b.dataDir, METADATA_FILE), 'utf8')).topics.map((t: { name: string }) => t.name)).toEqual(['before']);

      // space freed: the same topics are created
      fs.fullFor = undefined;
      expect((await createTopic(c, 'full')).errorCode).toBe(ErrorCode.NONE);
      expect((await createTopic(c, 'half')).errorCode).toBe(ErrorCode.NONE);
      expect(await topicNames(c)).toEqual(['before', 'full', 'half']);
      expect(fs.failures).toBeGreaterThan(0);
    } finally {
      c.close();
    }
  }, 60_000);
});
