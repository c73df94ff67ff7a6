/**
 * The rules that decide, at start, which partition directories the stored metadata explains (live), which
 * belong to a deletion cut short (doomed), and which it does not explain (strays, kept).
 */
import { describe, expect, it } from 'vitest';
import { classifyLogs, type FoundLog } from '../../src/metadata/stray-logs.js';

const topic = (name: string, topicId: string, partitions: number) => ({ name, topicId, partitions, replicationFactor: 1, configs: {} });
const dir = (name: string, partition: number, topicId?: string): FoundLog => ({ topic: name, partition, topicId });
const names = (logs: readonly FoundLog[]): string[] => logs.map((l) => `${l.topic}-${l.partition}`).sort();

describe('classifyLogs', () => {
  it('a directory of a stored topic, within its count, with its id or none, is live', () => {
    const r = classifyLogs([dir('a', 0, 'A'), dir('a', 1), dir('b', 0, 'B')], [topic('a', 'A', 2), topic('b', 'B', 1)], []);
    expect([...r.live.get('a')!.keys()].sort()).toEqual([0, 1]);
    expect([...r.live.get('b')!.keys()]).toEqual([0]);
    expect(r.doomed).toEqual([]);
    expect(r.strays).toEqual([]);
  });

  it('a directory of a topic being deleted, with its id, is doomed; without an id only when no stored topic has the name', () => {
    const r = classifyLogs([dir('gone', 0, 'G'), dir('gone', 1), dir('again', 0), dir('again', 1, 'OLD')], [topic('again', 'NEW', 1)], [
      { name: 'gone', topicId: 'G', partitions: 2 },
      { name: 'again', topicId: 'OLD', partitions: 2 },
    ]);
    expect(names(r.doomed)).toEqual(['again-1', 'gone-0', 'gone-1']);
    expect([...r.live.get('again')!.keys()]).toEqual([0]);
    expect(r.strays).toEqual([]);
  });

  it('anything else is a stray, with the reason: an unknown topic, another topic id, a partition beyond the count', () => {
    const r = classifyLogs([dir('unknown', 0, 'U'), dir('a', 0, 'OTHER'), dir('a', 3, 'A'), dir('gone', 0, 'NOT-G'), dir('gone', 5, 'G')], [topic('a', 'A', 2)], [
      { name: 'gone', topicId: 'G', partitions: 2 },
    ]);
    expect(r.live.size).toBe(0);
    expect(r.doomed).toEqual([]);
    expect(r.strays.map((s) => [`${s.log.topic}-${s.log.partition}`, s.reason])).toEqual([
      ['unknown-0', 'gregor-metadata.json has no topic unknown with id U'],
      ['a-0', 'gregor-metadata.json has topic a with id A, the directory belongs to id OTHER'],
      ['a-3', 'gregor-metadata.json has 2 partition(s) for topic a'],
      ['gone-0', 'gregor-metadata.json has no topic gone with id NOT-G'],
      ['gone-5', 'gregor-metadata.json has no topic gone with id G'],
    ]);
  });
});
