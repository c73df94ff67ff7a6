/**
 * Feature versions (KIP-584), as ApiVersions v3+ reports them: the levels this broker supports and the
 * ones finalized for the cluster (one broker: the cluster). Of Kafka 4's features Gregor lists the two
 * that change what clients do and that it serves:
 * - `transaction.version` 0-2: level 2 is KIP-890 part 2 (every transaction end bumps the producer epoch;
 *   Produce v12+ and TxnOffsetCommit v5+ add their partition to the transaction; EndTxn v5 answers the
 *   next epoch). Finalized at `gregor.transaction.version` (default 2, as a new Kafka 4 cluster); a client
 *   uses those request versions only when the finalized level is 2, and the broker serves them as
 *   transaction version 2 only then (below it, they are served as the versions before).
 * - `group.version` 0-1: level 1 is KIP-848's consumer group protocol (ConsumerGroupHeartbeat), which
 *   Gregor always serves, so it is finalized at 1.
 * Kafka's `metadata.version` and `kraft.version` describe a KRaft quorum's metadata log, which Gregor has
 * not, and `eligible.leader.replicas.version` replication: not listed (clients do not read them).
 * The finalized levels are static configuration, so the finalized features epoch is constant (0).
 * Levels at 0 are not finalized (Kafka lists none at 0). ApiVersions v0-3 clients before Kafka 3.9 cannot
 * parse a supported minimum of 0 (KAFKA-17011): below v4 it is sent as 1, as Kafka does.
 */
import type { ConfigView } from './config/broker-config.js';

export const TRANSACTION_VERSION_FEATURE = 'transaction.version';
export const GROUP_VERSION_FEATURE = 'group.version';

export interface SupportedFeature {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface FinalizedFeature {
  readonly name: string;
  readonly minVersionLevel: number;
  readonly maxVersionLevel: number;
}

const SUPPORTED: readonly SupportedFeature[] = [
  { name: GROUP_VERSION_FEATURE, minVersion: 0, maxVersion: 1 },
  { name: TRANSACTION_VERSION_FEATURE, minVersion: 0, maxVersion: 2 },
];

/** The finalized features epoch (static configuration: never changes while the broker runs). */
export const FINALIZED_FEATURES_EPOCH = 0;

/** The supported features as ApiVersions at `version` lists them (a minimum of 0 sent as 1 below v4). */
export function supportedFeatures(version: number): SupportedFeature[] {
  return SUPPORTED.map((f) => (version < 4 && f.minVersion === 0 ? { ...f, minVersion: 1 } : f));
}

/** The finalized transaction.version (gregor.transaction.version). */
export function finalizedTransactionVersion(config: Pick<ConfigView, 'int'>): number {
  return config.int('gregor.transaction.version');
}

/** The finalized features: those above level 0, each at one level. */
export function finalizedFeatures(config: Pick<ConfigView, 'int'>): FinalizedFeature[] {
  const levels: [string, number][] = [
    [GROUP_VERSION_FEATURE, 1],
    [TRANSACTION_VERSION_FEATURE, finalizedTransactionVersion(config)],
  ];
  return levels.filter(([, level]) => level > 0).map(([name, level]) => ({ name, minVersionLevel: level, maxVersionLevel: level }));
}
