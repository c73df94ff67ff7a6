/**
 * SASL/PLAIN, the server side (RFC 4616), as Kafka's PlainSaslServer with its
 * default PlainServerCallbackHandler: the users are the `user_<name>="<password>"`
 * options of the listener's PlainLoginModule JAAS entry
 * (`listener.name.<listener>.plain.sasl.jaas.config`).
 *
 * One token: `[authzid] NUL authcid NUL passwd`, UTF-8. Exactly two NULs
 * (else "Invalid SASL/PLAIN response: expected 3 tokens, got N"); an empty
 * user name or password, an unknown user or a wrong password, and an
 * authorization id other than the user name fail with Kafka's messages, all
 * given to the client (SaslAuthenticationError). The password is compared in
 * constant time. The answer is an empty token; the authorization id is the
 * user name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { JaasEntry } from './jaas-config.js';
import { SaslAuthenticationError, type SaslServer } from './sasl-server.js';

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const USER_PREFIX = 'user_';

/** The PLAIN users of a listener: user name → password. */
export type PlainUsers = ReadonlyMap<string, string>;

/**
 * The users of a JAAS entry, as Kafka's PlainServerCallbackHandler finds them: the `user_<name>` options of a
 * PlainLoginModule entry (an entry of another login module has none).
 */
export function plainUsersOf(entry: JaasEntry | undefined): PlainUsers {
  const users = new Map<string, string>();
  if (!entry || entry.loginModule !== PLAIN_LOGIN_MODULE) return users;
  for (const [key, value] of entry.options) {
    if (key.startsWith(USER_PREFIX)) users.set(key.slice(USER_PREFIX.length), value);
  }
  return users;
}

export class PlainSaslServer implements SaslServer {
  readonly mechanism = 'PLAIN';
  private done = false;
  private user = '';

  constructor(private readonly users: PlainUsers) {}

  get complete(): boolean {
    return this.done;
  }

  evaluate(token: Buffer): Buffer {
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3) throw new SaslAuthenticationError(`Invalid SASL/PLAIN response: expected 3 tokens, got ${Math.min(parts.length, 4)}`);
    const [authorizationId, username, password] = parts as [string, string, string];
    if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
    const expected = this.users.get(username);
    if (expected === undefined || !equalConstantTime(password, expected)) throw new SaslAuthenticationError('Authentication failed: Invalid username or password');
    if (authorizationId !== '' && authorizationId !== username) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    this.user = username;
    this.done = true;
    return Buffer.alloc(0);
  }

  authorizationId(): string {
    if (!this.done) throw new Error('Authentication exchange has not completed');
    return this.user;
  }

  credentialExpiresAtMs(): undefined {
    return undefined;
  }
}

/** Compares two strings in a time that does not depend on where they differ (digests of equal length). */
function equalConstantTime(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a === b;
}
