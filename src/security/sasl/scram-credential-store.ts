/**
 * The SCRAM credentials of the cluster's users, kept durably in the log dir
 * and read by every SCRAM login (Kafka's ScramControlManager and ScramImage:
 * AlterUserScramCredentials changes them, DescribeUserScramCredentials lists
 * them, KIP-554; `--add-scram` adds the missing ones at start, KIP-900). A
 * change is on disk before it is answered and applies to the next login at
 * once.
 *
 * What is stored of a user's password per mechanism is what Kafka's
 * UserScramCredentialRecord holds: salt, StoredKey, ServerKey and the
 * iteration count, never the password nor the salted password (the admin
 * API sends the salted password; the store derives the two keys from it, as
 * Kafka's controller does, and forgets it).
 *
 * File format (<log.dir>/gregor-scram-credentials.json, JSON, version 1):
 *   { "version": 1, "clusterId": "…", "credentials": [
 *       { "name": "alice", "mechanism": 1, "salt": "<base64>", "storedKey": "<base64>",
 *         "serverKey": "<base64>", "iterations": 8192 } ] }
 * (mechanism: Kafka's type byte, 1 SCRAM-SHA-256, 2 SCRAM-SHA-512; the fields
 * are UserScramCredentialRecord's.) Every change rewrites the whole file
 * atomically through the storage's file system seam (write <file>.tmp, fsync,
 * rename, fsync the directory): a crash leaves the old or the new set. A file
 * of another cluster, or of a version this broker does not read, stops the
 * start. Later versions may add fields; readers ignore unknown ones.
 */
import { join } from 'node:path';
import { ErrorCode } from '../../../protocol/index.js';
import { nodeFs, writeFileAtomic, type StorageFs } from '../../../storage/index.js';
import { credentialOf, type ScramCredential } from './scram-formatter.js';
import { SCRAM_MECHANISMS, scramMechanismByType, type ScramMechanism } from './scram-mechanism.js';
import type { UserScramCredential } from './scram-parser.js';

export const SCRAM_CREDENTIALS_FILE = 'gregor-scram-credentials.json';
const FORMAT_VERSION = 1;

/** AlterUserScramCredentials' deletion of one user's credential for a mechanism (its type byte). */
export interface ScramCredentialDeletion {
  readonly name: string;
  readonly mechanism: number;
}

/** AlterUserScramCredentials' upsertion: the client salted the password itself. */
export interface ScramCredentialUpsertion {
  readonly name: string;
  readonly mechanism: number;
  readonly iterations: number;
  readonly salt: Buffer;
  readonly saltedPassword: Buffer;
}

/** The result for one user (one per user named in the request). */
export interface UserResult {
  readonly user: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface DescribeResult extends UserResult {
  readonly credentialInfos: ReadonlyArray<{ readonly mechanism: number; readonly iterations: number }>;
}

export class ScramCredentialStoreError extends Error {
  override readonly name = 'ScramCredentialStoreError';
}

/** user → credential, one map per mechanism. */
type Credentials = ReadonlyMap<ScramMechanism, ReadonlyMap<string, ScramCredential>>;

interface StoredCredential {
  name: string;
  mechanism: number;
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

export class ScramCredentialStore {
  private credentials: Credentials;
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly clusterId: string,
    private readonly fs: StorageFs,
    credentials: Credentials,
  ) {
    this.credentials = credentials;
  }

  /** Reads the credentials of the log dir `dir` (none when the file does not exist yet). */
  static open(dir: string, clusterId: string, fs: StorageFs = nodeFs): ScramCredentialStore {
    const path = join(dir, SCRAM_CREDENTIALS_FILE);
    let credentials: Credentials = emptyCredentials();
    try {
      if (fs.stat(`${path}.tmp`) !== null) fs.unlink(`${path}.tmp`);
      if (fs.stat(path) !== null) credentials = parseFile(fs.readFile(path).toString('utf8'), path, clusterId);
    } catch (err) {
      if (err instanceof ScramCredentialStoreError) throw err;
      throw new ScramCredentialStoreError(`cannot read SCRAM credentials ${path}: ${(err as Error).message}`);
    }
    return new ScramCredentialStore(path, clusterId, fs, credentials);
  }

  /** A user's credential for a mechanism (what a SCRAM login reads). */
  get(mechanism: ScramMechanism, user: string): ScramCredential | undefined {
    return this.credentials.get(mechanism)?.get(user);
  }

  /** Users with at least one credential. */
  get userCount(): number {
    const users = new Set<string>();
    for (const byUser of this.credentials.values()) for (const u of byUser.keys()) users.add(u);
    return users.size;
  }

  /**
   * DescribeUserScramCredentials, as Kafka's ScramImage.describe: `users` null or empty lists every user (by
   * name); a user named twice is DUPLICATE_RESOURCE, one without credentials RESOURCE_NOT_FOUND.
   */
  describe(users: readonly string[] | null): DescribeResult[] {
    const asked = new Map<string, boolean>();
    if (users === null || users.length === 0) {
      const all = new Set<string>();
      for (const byUser of this.credentials.values()) for (const u of byUser.keys()) all.add(u);
      for (const u of [...all].sort()) asked.set(u, false);
    } else {
      for (const u of users) asked.set(u, asked.has(u));
    }
    const out: DescribeResult[] = [];
    for (const [user, duplicate] of asked) {
      if (duplicate) {
        out.push({ user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] });
        continue;
      }
      const infos = SCRAM_MECHANISMS.flatMap((m) => {
        const c = this.get(m, user);
        return c ? [{ mechanism: m.type, iterations: c.iterations }] : [];
      });
      if (infos.length > 0) out.push({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos });
      else out.push({ user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] });
    }
    return out;
  }

  /**
   * AlterUserScramCredentials, as Kafka's ScramControlManager.alterCredentials: each user at most once in a
   * request (else DUPLICATE_RESOURCE for that user), an empty name or too few/many iterations
   * UNACCEPTABLE_CREDENTIAL, an unknown mechanism UNSUPPORTED_SASL_MECHANISM, deleting a credential that does
   * not exist RESOURCE_NOT_FOUND. The accepted changes are written together, durably, before the results are
   * returned (a failed write fails the request); results: deletions, upsertions, then refusals.
   */
  alter(deletions: readonly ScramCredentialDeletion[], upsertions: readonly ScramCredentialUpsertion[]): Promise<UserResult[]> {
    const run = async (): Promise<UserResult[]> => {
      const errors = new Map<string, [number, string]>();
      const toDelete = new Map<string, ScramCredentialDeletion>();
      const toUpsert = new Map<string, ScramCredentialUpsertion>();
      const duplicate: [number, string] = [ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'];
      for (const d of deletions) {
        if (errors.has(d.name)) continue;
        if (toDelete.delete(d.name)) {
          errors.set(d.name, duplicate);
          continue;
        }
        const error = this.validateDeletion(d);
        if (error) errors.set(d.name, error);
        else toDelete.set(d.name, d);
      }
      for (const u of upsertions) {
        if (errors.has(u.name)) continue;
        if (toDelete.delete(u.name) || toUpsert.delete(u.name)) {
          errors.set(u.name, duplicate);
          continue;
        }
        const error = validateUpsertion(u);
        if (error) errors.set(u.name, error);
        else toUpsert.set(u.name, u);
      }
      const next = new Map<ScramMechanism, Map<string, ScramCredential>>([...this.credentials].map(([m, byUser]) => [m, new Map(byUser)]));
      for (const d of toDelete.values()) next.get(scramMechanismByType(d.mechanism)!)!.delete(d.name);
      for (const u of toUpsert.values()) {
        const m = scramMechanismByType(u.mechanism)!;
        next.get(m)!.set(u.name, credentialOf(m, Buffer.from(u.salt), u.saltedPassword, u.iterations));
      }
      if (toDelete.size > 0 || toUpsert.size > 0) {
        await this.write(next);
        this.credentials = next;
      }
      const ok = (user: string): UserResult => ({ user, errorCode: ErrorCode.NONE, errorMessage: null });
      return [
        ...[...toDelete.keys()].map(ok),
        ...[...toUpsert.keys()].map(ok),
        ...[...errors].map(([user, [errorCode, errorMessage]]) => ({ user, errorCode, errorMessage })),
      ];
    };
    const result = this.writes.then(run, run);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * The credentials of `--add-scram` (Kafka's format-time `kafka-storage.sh format --add-scram`, KIP-900),
   * applied at every start before the listeners open: each is stored when its user has no credential for
   * its mechanism yet; one that exists is kept, whatever was given, so that a restart with the same command
   * line changes nothing. The new ones are written together, durably. Returns, in order, whether each was
   * added.
   */
  addIfAbsent(credentials: readonly UserScramCredential[]): Promise<boolean[]> {
    const run = async (): Promise<boolean[]> => {
      const next = new Map<ScramMechanism, Map<string, ScramCredential>>([...this.credentials].map(([m, byUser]) => [m, new Map(byUser)]));
      const added = credentials.map(({ name, mechanism, credential }) => {
        const byUser = next.get(mechanism)!;
        if (byUser.has(name)) return false;
        byUser.set(name, credential);
        return true;
      });
      if (added.includes(true)) {
        await this.write(next);
        this.credentials = next;
      }
      return added;
    };
    const result = this.writes.then(run, run);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once the changes under way are written. */
  async close(): Promise<void> {
    await this.writes;
  }

  private validateDeletion(d: ScramCredentialDeletion): [number, string] | undefined {
    const error = validateNameAndMechanism(d.name, d.mechanism);
    if (error) return error;
    if (!this.credentials.get(scramMechanismByType(d.mechanism)!)?.has(d.name)) {
      return [ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'];
    }
    return undefined;
  }

  private async write(next: Credentials): Promise<void> {
    const credentials: StoredCredential[] = [];
    for (const [m, byUser] of next) {
      for (const [name, c] of byUser) {
        credentials.push({
          name,
          mechanism: m.type,
          salt: c.salt.toString('base64'),
          storedKey: c.storedKey.toString('base64'),
          serverKey: c.serverKey.toString('base64'),
          iterations: c.iterations,
        });
      }
    }
    const text = JSON.stringify({ version: FORMAT_VERSION, clusterId: this.clusterId, credentials }, null, 1) + '\n';
    try {
      await writeFileAtomic(this.fs, this.path, text);
    } catch (err) {
      try {
        if (this.fs.stat(`${this.path}.tmp`) !== null) this.fs.unlink(`${this.path}.tmp`);
      } catch {
        // the next start removes it
      }
      throw new ScramCredentialStoreError(`writing SCRAM credentials ${this.path} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

function validateNameAndMechanism(name: string, mechanism: number): [number, string] | undefined {
  if (name === '') return [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'];
  if (scramMechanismByType(mechanism) === undefined) return [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'];
  return undefined;
}

function validateUpsertion(u: ScramCredentialUpsertion): [number, string] | undefined {
  const error = validateNameAndMechanism(u.name, u.mechanism);
  if (error) return error;
  const m = scramMechanismByType(u.mechanism)!;
  if (u.iterations < m.minIterations) return [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'];
  if (u.iterations > m.maxIterations) return [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'];
  return undefined;
}

function emptyCredentials(): Map<ScramMechanism, Map<string, ScramCredential>> {
  return new Map(SCRAM_MECHANISMS.map((m) => [m, new Map()]));
}

function parseFile(text: string, path: string, clusterId: string): Credentials {
  const bad = (what: string): ScramCredentialStoreError => new ScramCredentialStoreError(`SCRAM credentials ${path} are malformed: ${what}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
  const o = raw as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw bad('not an object');
  if (o['version'] !== FORMAT_VERSION) throw bad(`unsupported version ${String(o['version'])} (this Gregor reads version ${FORMAT_VERSION})`);
  if (o['clusterId'] !== clusterId) {
    throw new ScramCredentialStoreError(`SCRAM credentials ${path} belong to cluster ${String(o['clusterId'])}, but the log dir's meta.properties says ${clusterId}`);
  }
  if (!Array.isArray(o['credentials'])) throw bad('no credentials array');
  const out = emptyCredentials();
  for (const entry of o['credentials'] as unknown[]) {
    const c = entry as Partial<StoredCredential> | null;
    const m = typeof c?.mechanism === 'number' ? scramMechanismByType(c.mechanism) : undefined;
    if (
      !c || typeof c.name !== 'string' || m === undefined || typeof c.salt !== 'string' || typeof c.storedKey !== 'string' ||
      typeof c.serverKey !== 'string' || !Number.isInteger(c.iterations)
    ) {
      throw bad(`bad credential entry for ${JSON.stringify(typeof c?.name === 'string' ? c.name : null)}`);
    }
    out.get(m)!.set(c.name, {
      salt: Buffer.from(c.salt, 'base64'),
      storedKey: Buffer.from(c.storedKey, 'base64'),
      serverKey: Buffer.from(c.serverKey, 'base64'),
      iterations: c.iterations!,
    });
  }
  return out;
}
