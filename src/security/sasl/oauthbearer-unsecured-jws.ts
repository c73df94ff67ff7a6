/**
 * Kafka's unsecured OAUTHBEARER validator (OAuthBearerUnsecuredJws with
 * OAuthBearerUnsecuredValidatorCallbackHandler): for development only, it
 * trusts any well-formed unsigned token. Kafka's default for OAUTHBEARER, and
 * what clients produce with `enable.sasl.oauthbearer.unsecure.jwt=true`
 * (librdkafka) or Kafka's unsecured login handler.
 *
 * Options (the OAUTHBEARER JAAS entry's, `unsecuredValidator…`):
 *   PrincipalClaimName     the claim naming the principal (default sub)
 *   ScopeClaimName         the claim holding the scope (default scope)
 *   RequiredScope          space-separated scope items the token must all have
 *   AllowableClockSkewMs   skew allowed on iat and exp (default 0)
 * (a bad RequiredScope item or skew is refused at start).
 *
 * A token is three dot-separated base64url parts (the last one empty),
 * "header.claims.": the header's alg must be "none"; the claims need a
 * numeric exp in the future (less the skew), an iat (if any) not in the
 * future (plus the skew) and before exp, a non-blank string principal
 * claim, and every required scope item. A refused token is "invalid_token",
 * or "insufficient_scope" with the required scope for a missing scope item.
 * Claim values are read as Kafka reads them: numbers stay numbers, arrays
 * become lists of their items' text, anything else its text.
 */
import type { OAuthBearerToken, OAuthBearerValidation, OAuthBearerValidator } from './oauthbearer-server.js';

export interface UnsecuredValidatorOptions {
  readonly principalClaimName: string;
  readonly scopeClaimName: string;
  readonly requiredScope: readonly string[];
  readonly allowableClockSkewMs: number;
}

const SCOPE_ITEM = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The validator's options from the OAUTHBEARER JAAS entry's options; throws Error with Kafka's message for bad ones. */
export function unsecuredValidatorOptions(options: ReadonlyMap<string, string>): UnsecuredValidatorOptions {
  const opt = (name: string): string | undefined => {
    const v = options.get(`unsecuredValidator${name}`);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const requiredScope: string[] = [];
  for (const item of (opt('RequiredScope') ?? '').split(' ')) {
    if (item === '') continue;
    if (!SCOPE_ITEM.test(item)) throw new Error(`Invalid scope value: ${item}`);
    requiredScope.push(item);
  }
  const skewText = opt('AllowableClockSkewMs');
  const skew = skewText === undefined ? 0 : Number(skewText);
  if (!Number.isInteger(skew) || skew > 2147483647) throw new Error(`For input string: "${skewText}"`);
  if (skew < 0) throw new Error(`Allowable clock skew millis must not be negative: ${skewText}`);
  return { principalClaimName: opt('PrincipalClaimName') ?? 'sub', scopeClaimName: opt('ScopeClaimName') ?? 'scope', requiredScope, allowableClockSkewMs: skew };
}

type ClaimValue = number | string | string[];

class IllegalToken extends Error {
  constructor(
    message: string,
    readonly failureScope?: string,
  ) {
    super(message);
  }
}

/** Decodes one part of a compact serialization into its claims, as Kafka's OAuthBearerUnsecuredJws.toMap. */
export function decodeJsonPart(part: string): Map<string, ClaimValue> {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(part)) throw new IllegalToken('malformed Base64 URL encoded value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new IllegalToken('malformed JSON');
  }
  const out = new Map<string, ClaimValue>();
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) out.set(k, convert(v));
  return out;
}

function convert(v: unknown): ClaimValue {
  if (Array.isArray(v)) return v.map((item) => textOf(item));
  if (typeof v === 'number') return v;
  return textOf(v);
}

/** Jackson's asText(): strings as they are, numbers and booleans printed, null "null", objects and arrays "". */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return '';
}

function typeName(v: ClaimValue): string {
  return typeof v === 'number' ? 'Number' : typeof v === 'string' ? 'String' : 'List';
}

function numberClaim(claims: Map<string, ClaimValue>, name: string): number | undefined {
  const v = claims.get(name);
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new IllegalToken(`The '${name}' claim was not of type Number: ${typeName(v)}`);
  return v;
}

function stringClaim(claims: Map<string, ClaimValue>, name: string): string | undefined {
  const v = claims.get(name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new IllegalToken(`The '${name}' claim was not of type String: ${typeName(v)}`);
  return v;
}

/** Parses and checks an unsecured token (Kafka's OAuthBearerUnsecuredJws constructor, then the handler's checks). */
function check(tokenValue: string, o: UnsecuredValidatorOptions, nowMs: number): OAuthBearerToken {
  if (tokenValue.includes('..')) throw new IllegalToken("Malformed compact serialization contains '..'");
  const parts = tokenValue.split('.');
  if (parts.length !== 3) throw new IllegalToken('Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values');
  const header = decodeJsonPart(parts[0]!);
  const claims = decodeJsonPart(parts[1]!);
  const alg = header.get('alg');
  if (alg === undefined) throw new IllegalToken('JWS header must have an Algorithm value');
  if (String(alg) !== 'none') throw new IllegalToken("Unsecured JWS must have 'none' for an algorithm");
  if (parts[2] !== '') throw new IllegalToken('Unsecured JWS must not contain a digital signature');
  const scope = scopeOf(claims, o.scopeClaimName);
  const exp = numberClaim(claims, 'exp');
  if (exp === undefined) throw new IllegalToken('No expiration time in JWT');
  const principal = stringClaim(claims, o.principalClaimName);
  if (principal === undefined || principal.trim() === '') throw new IllegalToken(`No principal name in JWT claim: ${o.principalClaimName}`);
  const iat = numberClaim(claims, 'iat');
  const skew = o.allowableClockSkewMs;
  if (iat !== undefined && 1000 * iat > nowMs + skew) {
    throw new IllegalToken(`The Issued At value (${iat} seconds) was after the indicated time (${nowMs} ms) plus allowable clock skew (${skew} ms)`);
  }
  if (nowMs - skew >= 1000 * exp) {
    throw new IllegalToken(`The indicated time (${nowMs} ms) minus allowable clock skew (${skew} ms) was on or after the Expiration Time value (${exp} seconds)`);
  }
  if (iat !== undefined && exp <= iat) throw new IllegalToken(`The Expiration Time time (${exp} seconds) was not after the Issued At time (${iat} seconds)`);
  for (const item of o.requiredScope) {
    if (!scope.has(item)) {
      const required = `[${o.requiredScope.join(', ')}]`;
      throw new IllegalToken(`The provided scope ([${[...scope].join(', ')}]) was missing a required scope (${item}).  All required scope elements: ${required}`, required);
    }
  }
  return { principalName: principal, lifetimeMs: Math.round(exp * 1000), scope };
}

function scopeOf(claims: Map<string, ClaimValue>, name: string): Set<string> {
  const v = claims.get(name);
  if (v === undefined) return new Set();
  if (typeof v === 'string') return v.trim() === '' ? new Set() : new Set([v.trim()]);
  if (!Array.isArray(v)) throw new IllegalToken(`The '${name}' claim was not of type List: Number`);
  return new Set(v.filter((s) => s.trim() !== '').map((s) => s.trim()));
}

/** The unsecured validator with these options. */
export function unsecuredValidator(o: UnsecuredValidatorOptions): OAuthBearerValidator {
  return (tokenValue, nowMs): OAuthBearerValidation => {
    try {
      return { token: check(tokenValue, o, nowMs) };
    } catch (err) {
      if (!(err instanceof IllegalToken)) throw err;
      return err.failureScope !== undefined
        ? { errorStatus: 'insufficient_scope', errorScope: err.failureScope, reason: err.message }
        : { errorStatus: 'invalid_token', reason: err.message };
    }
  };
}
