/**
 * The SCRAM mechanisms Kafka has (Kafka's ScramMechanism): their SASL names,
 * the type byte that DescribeUserScramCredentials, AlterUserScramCredentials
 * and the stored credentials carry (0 is Kafka's UNKNOWN), the hash, and the
 * iteration bounds: a credential below 4096 iterations is refused, one above
 * 16384 cannot be stored (Kafka's ScramControlManager.MAX_ITERATIONS).
 */

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface ScramMechanism {
  readonly name: ScramMechanismName;
  /** The int8 of the admin APIs and of Kafka's UserScramCredentialRecord. */
  readonly type: 1 | 2;
  /** node:crypto's name of the hash (and of its HMAC). */
  readonly hash: 'sha256' | 'sha512';
  /** Bytes of a digest: the length of salted passwords, keys, proofs and signatures. */
  readonly digestBytes: 32 | 64;
  readonly minIterations: number;
  readonly maxIterations: number;
}

export const SCRAM_SHA_256: ScramMechanism = Object.freeze({ name: 'SCRAM-SHA-256', type: 1, hash: 'sha256', digestBytes: 32, minIterations: 4096, maxIterations: 16384 });
export const SCRAM_SHA_512: ScramMechanism = Object.freeze({ name: 'SCRAM-SHA-512', type: 2, hash: 'sha512', digestBytes: 64, minIterations: 4096, maxIterations: 16384 });

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [SCRAM_SHA_256, SCRAM_SHA_512];

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.name === name);
}

export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === type);
}
