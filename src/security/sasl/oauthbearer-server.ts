/**
 * SASL/OAUTHBEARER, the server side (RFC 7628), as Kafka's
 * OAuthBearerSaslServer and OAuthBearerClientInitialResponse:
 *
 * 1. The client's initial response:
 *      n,[a=<authzid>],^A(<key>=<value>^A)*^A      (^A is the byte 0x01)
 *    with a key `auth` whose value is `Bearer <token>`; the other keys are
 *    SASL extensions (letters; values printable ASCII, space, tab, CR, LF).
 *    A response of another form fails (SaslError: "Invalid OAUTHBEARER
 *    client first message", "… 'auth' not specified", "… invalid 'auth'
 *    format", a scheme other than bearer, an extension named `auth`).
 * 2. The token is given to the listener's validator (the unsecured JWS one,
 *    oauthbearer-unsecured-jws.ts, or the signed JWT one against a JWKS file,
 *    oauthbearer-jwt-validator.ts). A token it refuses is answered, as the
 *    RFC says, with a JSON error and the exchange stays open:
 *      {"status":"invalid_token"}   or   {"status":"insufficient_scope", "scope":"[…]"}
 *    The client then sends the single byte 0x01, and the exchange fails with
 *    that JSON as the message for the client (SaslAuthenticationError), which
 *    is what Kafka's clients show.
 * 3. An authorization id other than the token's principal fails; every
 *    extension is accepted (both of Kafka's validators accept them all). The
 *    answer is an empty token; the authorization id is the principal, and
 *    the token's expiry bounds the session (KIP-368).
 */
import { SaslAuthenticationError, SaslError, type SaslServer } from './sasl-server.js';

/** A validated token (Kafka's OAuthBearerToken, what the broker uses of it). */
export interface OAuthBearerToken {
  readonly principalName: string;
  /** Its expiry, ms since the epoch. */
  readonly lifetimeMs: number;
  readonly scope: ReadonlySet<string>;
}

/** A validator's verdict (Kafka's OAuthBearerValidatorCallback: a token, or an error status for the client). */
export type OAuthBearerValidation =
  | { readonly token: OAuthBearerToken }
  | { readonly errorStatus: string; readonly errorScope?: string; readonly errorOpenIdConfiguration?: string; readonly reason: string };

/** Validates a token's compact serialization; `nowMs` is the time to check it at. */
export type OAuthBearerValidator = (tokenValue: string, nowMs: number) => OAuthBearerValidation;

const SEPARATOR = '\u0001';
const SASLNAME = '(?:[\\x01-\\x2B\\x2D-\\x3C\\x3E-\\x7F]|=2C|=3D)+';
const KEY = '[A-Za-z]+';
const VALUE = '[\\x21-\\x7E \\t\\r\\n]+';
const CLIENT_INITIAL_RESPONSE = new RegExp(`^n,(?:a=(?<authzid>${SASLNAME}))?,${SEPARATOR}(?<kvpairs>(?:${KEY}=${VALUE}${SEPARATOR})*)${SEPARATOR}$`);
const AUTH = /^(?<scheme>\w+) +(?<token>[-_~+/.a-zA-Z0-9]+=*)$/;
const KEY_PATTERN = new RegExp(`^${KEY}$`);
const VALUE_PATTERN = new RegExp(`^${VALUE}$`);

export interface ClientInitialResponse {
  readonly tokenValue: string;
  readonly authorizationId: string;
  readonly extensions: ReadonlyMap<string, string>;
}

/** Parses the client's initial response (Kafka's OAuthBearerClientInitialResponse); throws SaslError. */
export function parseClientInitialResponse(bytes: Buffer): ClientInitialResponse {
  const m = CLIENT_INITIAL_RESPONSE.exec(bytes.toString('utf8'));
  if (!m?.groups) throw new SaslError('Invalid OAUTHBEARER client first message');
  const properties = new Map<string, string>();
  for (const pair of m.groups['kvpairs']!.split(SEPARATOR)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    properties.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const auth = properties.get('auth');
  if (auth === undefined) throw new SaslError("Invalid OAUTHBEARER client first message: 'auth' not specified");
  properties.delete('auth');
  for (const [key, value] of properties) {
    if (!KEY_PATTERN.test(key)) throw new SaslError(`Extension name ${key} is invalid`);
    if (!VALUE_PATTERN.test(value)) throw new SaslError(`Extension value for extension ${key} is invalid`);
  }
  const a = AUTH.exec(auth);
  if (!a?.groups) throw new SaslError("Invalid OAUTHBEARER client first message: invalid 'auth' format");
  if (a.groups['scheme']!.toLowerCase() !== 'bearer') throw new SaslError('Invalid scheme in OAUTHBEARER client first message');
  return { tokenValue: a.groups['token']!, authorizationId: m.groups['authzid'] ?? '', extensions: properties };
}

/** The JSON error of RFC 7628 section 3.2.2, as Kafka writes it. */
export function jsonErrorResponse(status: string, scope: string | undefined, openIdConfiguration: string | undefined): string {
  let json = `{"status":"${status}"`;
  if (scope !== undefined) json += `, "scope":"${scope}"`;
  if (openIdConfiguration !== undefined) json += `, "openid-configuration":"${openIdConfiguration}"`;
  return `${json}}`;
}

export class OAuthBearerSaslServer implements SaslServer {
  readonly mechanism = 'OAUTHBEARER';
  private token: OAuthBearerToken | undefined;
  /** The JSON error sent for a refused token, until the client's 0x01. */
  private errorMessage: string | undefined;
  /** Why the last token was refused (for the broker's log; never the token). */
  rejectionReason: string | undefined;

  constructor(
    private readonly validate: OAuthBearerValidator,
    private readonly now: () => number = Date.now,
  ) {}

  get complete(): boolean {
    return this.token !== undefined;
  }

  evaluate(response: Buffer): Buffer {
    if (response.length === 1 && response[0] === 0x01 && this.errorMessage !== undefined) {
      throw new SaslAuthenticationError(this.errorMessage);
    }
    this.errorMessage = undefined;
    const initial = parseClientInitialResponse(response);
    const verdict = this.validate(initial.tokenValue, this.now());
    if (!('token' in verdict)) {
      this.rejectionReason = verdict.reason;
      this.errorMessage = jsonErrorResponse(verdict.errorStatus, verdict.errorScope, verdict.errorOpenIdConfiguration);
      return Buffer.from(this.errorMessage, 'utf8');
    }
    const { token } = verdict;
    if (initial.authorizationId !== '' && initial.authorizationId !== token.principalName) {
      throw new SaslAuthenticationError(
        `Authentication failed: Client requested an authorization id (${initial.authorizationId}) that is different from the token's principal name (${token.principalName})`,
      );
    }
    this.token = token;
    return Buffer.alloc(0);
  }

  authorizationId(): string {
    if (!this.token) throw new Error('Authentication exchange has not completed');
    return this.token.principalName;
  }

  credentialExpiresAtMs(): number | undefined {
    return this.token?.lifetimeMs;
  }
}
