/**
 * SCRAM-SHA-256 and SCRAM-SHA-512, the server side (RFC 5802, RFC 7677), as
 * Kafka's ScramSaslServer:
 *
 * 1. client-first: parsed (scram-messages.ts); the user name is the saslname
 *    unescaped; its credential for this mechanism is looked up. The answer is
 *    server-first: the client's nonce followed by a fresh server nonce (130
 *    random bits in base 36), the credential's salt and iteration count.
 *    Failures (all SaslError, so the client learns nothing of the user): a
 *    message of the wrong form, a user name that cannot be unescaped, no
 *    credential, iterations below the mechanism's minimum (4096), and
 *    `tokenauth=true` (delegation tokens: Gregor has none, so no token id is
 *    valid). An authorization id other than the user name is a
 *    SaslAuthenticationError ("Authentication failed: Client requested an
 *    authorization id that is different from username"). Unknown extensions
 *    are ignored.
 * 2. client-final: parsed; its nonce must end with the server-first nonce;
 *    the proof must match the stored key (compared in constant time). A proof
 *    of the wrong length is an invalid proof (Kafka fails with an unexpected
 *    error and drops the connection without an answer). The answer is
 *    server-final, `v=` and the server signature, and the exchange is
 *    complete: the authorization id is the user name.
 * Once failed, any further token is refused. The credential is read once, at
 * client-first: a change made meanwhile applies to the next login.
 */
import { SaslAuthenticationError, SaslError, type SaslServer } from './sasl-server.js';
import { authMessage, secureRandomString, serverSignature, usernameOf, verifyClientProof, type ScramCredential } from './scram-formatter.js';
import type { ScramMechanism } from './scram-mechanism.js';
import {
  clientFinalWithoutProof,
  clientFirstBare,
  parseClientFinal,
  parseClientFirst,
  serverFinalText,
  serverFirstText,
  type ClientFirstMessage,
  type ServerFirstMessage,
} from './scram-messages.js';

/** The credentials a SCRAM server reads: a user's credential for a mechanism, if any. */
export type ScramCredentialLookup = (mechanism: ScramMechanism, username: string) => ScramCredential | undefined;

type State = 'client-first' | 'client-final' | 'complete' | 'failed';

export class ScramSaslServer implements SaslServer {
  private state: State = 'client-first';
  private clientFirst: ClientFirstMessage | undefined;
  private serverFirst: ServerFirstMessage | undefined;
  private credential: ScramCredential | undefined;
  private username = '';

  constructor(
    private readonly scram: ScramMechanism,
    private readonly lookup: ScramCredentialLookup,
    /** The server nonce (tests give RFC 7677's). */
    private readonly serverNonce: () => string = secureRandomString,
  ) {}

  get mechanism(): string {
    return this.scram.name;
  }

  get complete(): boolean {
    return this.state === 'complete';
  }

  evaluate(token: Buffer): Buffer {
    try {
      switch (this.state) {
        case 'client-first':
          return this.first(token);
        case 'client-final':
          return this.final(token);
        default:
          throw new SaslError(`Unexpected challenge in Sasl server state ${this.state}`);
      }
    } catch (err) {
      this.credential = undefined;
      this.clientFirst = undefined;
      this.serverFirst = undefined;
      this.state = 'failed';
      throw err;
    }
  }

  authorizationId(): string {
    if (!this.complete) throw new Error('Authentication exchange has not completed');
    return this.username;
  }

  credentialExpiresAtMs(): undefined {
    return undefined;
  }

  private first(token: Buffer): Buffer {
    const message = parseClientFirst(token);
    if (!message) throw new SaslError('Invalid SCRAM client first message format');
    const username = usernameOf(message.saslName);
    if (username === undefined) throw new SaslError('Authentication failed: Credentials could not be obtained');
    if (message.extensions.get('tokenauth')?.toLowerCase() === 'true') {
      throw new SaslError(`Token Authentication failed: Invalid tokenId : ${username}`);
    }
    const credential = this.lookup(this.scram, username);
    if (!credential) throw new SaslError('Authentication failed: Invalid user credentials');
    if (message.authorizationId !== '' && message.authorizationId !== username) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    if (credential.iterations < this.scram.minIterations) {
      throw new SaslError(`Iterations ${credential.iterations} is less than the minimum ${this.scram.minIterations} for ${this.scram.name}`);
    }
    this.username = username;
    this.clientFirst = message;
    this.credential = credential;
    this.serverFirst = { nonce: message.nonce + this.serverNonce(), salt: credential.salt, iterations: credential.iterations };
    this.state = 'client-final';
    return Buffer.from(serverFirstText(this.serverFirst), 'utf8');
  }

  private final(token: Buffer): Buffer {
    const message = parseClientFinal(token);
    if (!message) throw new SaslError('Invalid SCRAM client final message format');
    const serverFirst = this.serverFirst!;
    const credential = this.credential!;
    if (!message.nonce.endsWith(serverFirst.nonce)) throw new SaslError('Invalid client nonce in the final client message.');
    const auth = authMessage(clientFirstBare(this.clientFirst!), serverFirstText(serverFirst), clientFinalWithoutProof(message));
    if (!verifyClientProof(this.scram, credential.storedKey, auth, message.proof)) throw new SaslError('Invalid client credentials');
    const signature = serverSignature(this.scram, credential.serverKey, auth);
    this.credential = undefined;
    this.clientFirst = undefined;
    this.serverFirst = undefined;
    this.state = 'complete';
    return Buffer.from(serverFinalText(signature), 'utf8');
  }
}
