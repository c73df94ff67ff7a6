/**
 * Topics and their partitions (placeholder: being written; see the broker-core work).
 */
import type { PartitionLog } from '../../storage/index.js';
import type { Broker } from '../broker.js';

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string;
  readonly log: PartitionLog;
  readonly leaderEpoch: number;
}

export class TopicManager {
  static async open(_broker: Broker): Promise<TopicManager> {
    return new TopicManager();
  }
  partition(_topic: string, _partition: number): PartitionState | undefined {
    return undefined;
  }
  async close(): Promise<void> {}
}
