/**
 * The parts of src/metrics that need no broker: error codes found in response bodies, records counted in
 * Fetch record sections, and PlainHistogram's exposition (the same text as prom-client's Histogram for
 * the same observations).
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildRecordBatch, Compression, encodeMessageSet } from '../../protocol/records/index.js';
import { PlainHistogram } from '../../src/metrics/plain-histogram.js';
import { countRecords } from '../../src/metrics/record-count.js';
import { forEachResponseError } from '../../src/metrics/response-errors.js';

function errorsOf(def: Parameters<typeof forEachResponseError>[0], version: number, response: unknown): number[] {
  const codes: number[] = [];
  forEachResponseError(def, version, response, (c) => codes.push(c));
  return codes.sort((a, b) => a - b);
}

describe('error codes of a response body', () => {
  it('finds nested per-partition codes and skips NONE', () => {
    const response = {
      responses: [
        { name: 'a', partitionResponses: [{ index: 0, errorCode: ErrorCode.NONE }, { index: 1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }] },
        { name: 'b', partitionResponses: [{ index: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }, { index: 1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      ],
    };
    expect(errorsOf(schemas.produceResponse, 9, response)).toEqual([3, 3, 6]);
  });

  it('counts a top-level code only in the versions that have the field', () => {
    const response = { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }] }] };
    // Fetch has a top-level error code from v7 on
    expect(errorsOf(schemas.fetchResponse, 7, response)).toEqual([ErrorCode.OFFSET_OUT_OF_RANGE, ErrorCode.FETCH_SESSION_ID_NOT_FOUND]);
    expect(errorsOf(schemas.fetchResponse, 6, response)).toEqual([ErrorCode.OFFSET_OUT_OF_RANGE]);
  });

  it('finds *ErrorCode fields and tolerates absent and null parts', () => {
    const response = {
      topics: [{ name: 't', errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, topicConfigErrorCode: ErrorCode.INVALID_CONFIG, configs: null }, { name: 'u' }],
    };
    expect(errorsOf(schemas.createTopicsResponse, 5, response)).toEqual([ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.INVALID_CONFIG]);
    expect(errorsOf(schemas.createTopicsResponse, 5, {})).toEqual([]);
  });
});

describe('records in Fetch record sections', () => {
  it('counts each v2 batch by its record count, across sections, and skips a partial last batch', async () => {
    const a = await buildRecordBatch(Array.from({ length: 5 }, (_, i) => ({ value: Buffer.from(`a${i}`) })));
    const b = await buildRecordBatch(Array.from({ length: 7 }, (_, i) => ({ value: Buffer.from(`b${i}`) })), { compression: Compression.gzip });
    expect(countRecords([Buffer.concat([a, b]), a])).toBe(17);
    expect(countRecords([Buffer.concat([a, b.subarray(0, b.length - 1)])])).toBe(5);
    expect(countRecords([])).toBe(0);
  });

  it('counts each legacy message of a magic 0/1 message set, a compressed wrapper as one', async () => {
    const messages = Array.from({ length: 4 }, (_, i) => ({ offset: i, value: Buffer.from(`m${i}`) }));
    expect(countRecords([await encodeMessageSet(messages, { magic: 1 })])).toBe(4);
    expect(countRecords([await encodeMessageSet(messages, { magic: 0 })])).toBe(4);
    expect(countRecords([await encodeMessageSet(messages, { magic: 1, compression: Compression.gzip })])).toBe(1);
  });
});

describe('PlainHistogram', () => {
  it('exposes the same text as prom-client\'s Histogram for the same observations', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const observations: Array<[string, number]> = [
      ['Produce', 0.0005],
      ['Produce', 0.001],
      ['Produce', 0.05],
      ['Fetch', 2],
      ['Fetch', 0.1],
      ['Produce', 0.0101],
    ];
    const theirs = new Registry();
    const reference = new Histogram({ name: 'x_seconds', help: 'Some latency.', labelNames: ['api'], buckets, registers: [theirs] });
    for (const [api, v] of observations) reference.observe({ api }, v);
    const ours = new Registry();
    const plain = new PlainHistogram('x_seconds', 'Some latency.', buckets);
    plain.register(ours);
    for (const [api, v] of observations) plain.observe(plain.seriesOf({ api }), v);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    expect(await ours.metrics()).toContain('x_seconds_count{api="Produce"} 0');
  });

  it('refuses buckets that do not increase', () => {
    expect(() => new PlainHistogram('y', 'h', [1, 1])).toThrow(RangeError);
  });
});
