/**
 * A broker with a SASL_PLAINTEXT listener beside its PLAINTEXT one, for the SASL tests, with every log line
 * it writes kept (to check that no secret is ever logged); SCRAM users made through AlterUserScramCredentials
 * on the PLAINTEXT listener (the client salts the password, as Kafka's admin client does); and the client
 * side of SCRAM over SaslAuthenticate or raw tokens.
 *
 *   const b = await startSaslBroker({ 'connections.max.reauth.ms': 2000 });
 *   await addScramUser(b.plaintextPort, 'carol', 'carol-secret', SCRAM_SHA_256);
 *   ... clients on b.saslPort ...
 *   await b.close();
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { Broker, loadConfig } from '../../src/index.js';
import { authMessage, clientProof, saltedPassword } from '../../src/security/sasl/scram-formatter.js';
import type { ScramMechanism } from '../../src/security/sasl/scram-mechanism.js';
import { RawClient } from './raw-client.js';

export const PLAIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

export interface SaslBroker {
  readonly broker: Broker;
  readonly plaintextPort: number;
  readonly saslPort: number;
  readonly dataDir: string;
  /** Every log line written so far (JSON), debug level and up. */
  readonly logs: string[];
  /** Stops the broker (the data dir stays until remove()). */
  close(): Promise<void>;
  /** Stops the broker and removes its data dir. */
  remove(): Promise<void>;
}

/**
 * Starts a broker with listeners PLAINTEXT and SASL_PLAINTEXT on free ports of 127.0.0.1, PLAIN (alice,
 * admin), SCRAM-SHA-256/512 and OAUTHBEARER (unsecured) enabled, and `config` on top.
 */
export async function startSaslBroker(config: Record<string, string | number> = {}, dataDir?: string): Promise<SaslBroker> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'gregor-sasl-')));
  const overrides: Record<string, string> = {
    listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
    'connection.failed.authentication.delay.ms': '20',
    'gregor.metrics.enabled': 'false',
    'log.dirs': dir,
  };
  for (const [k, v] of Object.entries(config)) overrides[k] = String(v);
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const broker = await Broker.start({ config: loadConfig({ overrides }), logger });
  return {
    broker,
    plaintextPort: broker.boundPorts.get('PLAINTEXT')!,
    saslPort: broker.boundPorts.get('SASL_PLAINTEXT')!,
    dataDir: dir,
    logs,
    close: () => broker.close(),
    remove: async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sets a user's SCRAM credential with AlterUserScramCredentials on `port`, salted here as Kafka's admin client does. */
export async function addScramUser(port: number, user: string, password: string, mechanism: ScramMechanism, iterations = 4096): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const salt = Buffer.from(`salt-of-${user}-${mechanism.name}`);
    const res = await c.request(schemas.alterUserScramCredentialsRequest, schemas.alterUserScramCredentialsResponse, 0, {
      deletions: [],
      upsertions: [{ name: user, mechanism: mechanism.type, iterations, salt, saltedPassword: saltedPassword(mechanism, password, salt, iterations) }],
    });
    if (res.results[0]?.errorCode !== ErrorCode.NONE) throw new Error(`AlterUserScramCredentials: ${JSON.stringify(res.results)}`);
  } finally {
    c.close();
  }
}

/**
 * The client side of a SCRAM exchange over `send` (one token out, the server's token back): client-first,
 * then client-final with the proof. Resolves with the server-final message.
 */
export async function scramClient(mechanism: ScramMechanism, user: string, password: string, send: (token: Buffer) => Promise<Buffer>): Promise<string> {
  const bare = `n=${user},r=client-nonce-42`;
  const serverFirst = (await send(Buffer.from(`n,,${bare}`))).toString();
  const nonce = /r=([^,]+)/.exec(serverFirst)?.[1];
  const salt = /s=([^,]+)/.exec(serverFirst)?.[1];
  const iterations = Number(/i=(\d+)/.exec(serverFirst)?.[1]);
  if (nonce === undefined || salt === undefined) throw new Error(`not a server-first message: ${serverFirst}`);
  const withoutProof = `c=biws,r=${nonce}`;
  const proof = clientProof(mechanism, saltedPassword(mechanism, password, Buffer.from(salt, 'base64'), iterations), authMessage(bare, serverFirst, withoutProof));
  return (await send(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`))).toString();
}

/** An unsecured OAUTHBEARER token (as librdkafka's `enable.sasl.oauthbearer.unsecure.jwt` makes them). */
export function unsecuredJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64(claims)}.`;
}

/** OAUTHBEARER's client initial response (RFC 7628) for a token. */
export function oauthInitialResponse(token: string): Buffer {
  return Buffer.from(`n,,\u0001auth=Bearer ${token}\u0001\u0001`);
}
