/**
 * Kafka's signed-JWT OAUTHBEARER validator (OAuthBearerValidatorCallbackHandler
 * with ValidatorAccessTokenValidator and a JWKS file), on node:crypto.
 * Selected as in Kafka, with
 *   listener.name.<l>.oauthbearer.sasl.server.callback.handler.class=
 *     org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
 * and `sasl.oauthbearer.jwks.endpoint.url=file:///path/jwks.json` (a file: URL;
 * Gregor fetches no JWKS over HTTP). The JWKS is read once, at start.
 *
 * A token is accepted when:
 * 1. it is a compact JWS, three base64url parts, with a JSON header and claims;
 * 2. its alg is RS256, RS384, RS512, ES256, ES384 or ES512 ("none" and any
 *    other are refused, jose4j's DISALLOW_NONE);
 * 3. a key of the JWKS verifies its signature: keys are chosen by the
 *    header's kid when it has one, else every key whose kty (RSA, or EC with
 *    the alg's curve), use (absent or "sig") and alg (absent or the token's)
 *    fit is tried;
 * 4. its claims hold a numeric exp and iat (both required), exp after now
 *    less `sasl.oauthbearer.clock.skew.seconds` (default 30), nbf (if any)
 *    before now plus the skew; iss equal to `sasl.oauthbearer.expected.issuer`
 *    and aud (a string or a list) holding one of
 *    `sasl.oauthbearer.expected.audience` when those are set;
 * 5. `sasl.oauthbearer.sub.claim.name` (default sub) is a non-blank string
 *    (the principal) and `sasl.oauthbearer.scope.claim.name` (default scope)
 *    a string or a list of distinct non-blank strings, or absent.
 * A refused token is "invalid_token" for the client (the reason goes to the
 * broker's log, without the token).
 */
import { createPublicKey, verify, type JsonWebKey as CryptoJwk, type KeyObject } from 'node:crypto';
import type { OAuthBearerValidation, OAuthBearerValidator } from './oauthbearer-server.js';

export interface JwtValidatorOptions {
  /** The keys of the JWKS file (its `keys` array). */
  readonly keys: readonly JsonWebKey[];
  readonly clockSkewSeconds: number;
  readonly expectedAudiences: readonly string[];
  readonly expectedIssuer: string | undefined;
  readonly subClaimName: string;
  readonly scopeClaimName: string;
}

/** One key of a JWKS, as far as the validator reads it. */
export interface JsonWebKey {
  readonly kty?: string;
  readonly kid?: string;
  readonly use?: string;
  readonly alg?: string;
  readonly crv?: string;
  readonly [field: string]: unknown;
}

interface Algorithm {
  readonly kty: 'RSA' | 'EC';
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  /** The curve an EC key must be on. */
  readonly crv?: string;
}

const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  ES256: { kty: 'EC', hash: 'sha256', crv: 'P-256' },
  ES384: { kty: 'EC', hash: 'sha384', crv: 'P-384' },
  ES512: { kty: 'EC', hash: 'sha512', crv: 'P-521' },
};

/** Reads a JWKS document (`{"keys":[…]}`); throws Error naming what is wrong. */
export function parseJwks(text: string): JsonWebKey[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('no "keys" array');
  const out: JsonWebKey[] = [];
  for (const k of keys) {
    if (typeof k !== 'object' || k === null) throw new Error('a key is not a JSON object');
    const key = k as JsonWebKey;
    if (key.kty !== 'RSA' && key.kty !== 'EC') continue;
    // a key node:crypto cannot read is an error now, not at a login
    createPublicKey({ key: publicPart(key), format: 'jwk' });
    out.push(key);
  }
  return out;
}

/** The public members of a JWK (a private key in a JWKS file is not used as one). */
function publicPart(k: JsonWebKey): CryptoJwk {
  return k.kty === 'RSA' ? { kty: 'RSA', n: k['n'] as string, e: k['e'] as string } : { kty: 'EC', crv: k.crv, x: k['x'] as string, y: k['y'] as string };
}

class Invalid extends Error {}

/** The validator for these options. */
export function jwtValidator(o: JwtValidatorOptions): OAuthBearerValidator {
  const keyObjects = new Map<JsonWebKey, KeyObject>(o.keys.map((k) => [k, createPublicKey({ key: publicPart(k), format: 'jwk' })]));
  return (tokenValue, nowMs): OAuthBearerValidation => {
    try {
      const parts = tokenValue.split('.');
      if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new Invalid('Malformed JWT provided; expected three sections (header, payload, and signature)');
      const header = jsonPart(parts[0]!, 'header');
      const claims = jsonPart(parts[1]!, 'payload');
      const alg = typeof header['alg'] === 'string' ? header['alg'] : undefined;
      const algorithm = alg === undefined ? undefined : ALGORITHMS[alg];
      if (alg === undefined || algorithm === undefined) throw new Invalid(`'${String(alg)}' is not an accepted signature algorithm`);
      const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
      const candidates = o.keys.filter(
        (k) => (kid === undefined || k.kid === kid) && k.kty === algorithm.kty && (algorithm.crv === undefined || k.crv === algorithm.crv) && (k.use === undefined || k.use === 'sig') && (k.alg === undefined || k.alg === alg),
      );
      if (candidates.length === 0) throw new Invalid(`Unable to find a suitable verification key for JWS w/ header {"alg":"${alg}"${kid === undefined ? '' : `,"kid":"${kid}"`}}`);
      const signed = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
      const signature = Buffer.from(parts[2]!, 'base64url');
      const verified = candidates.some((k) => verifies(algorithm, keyObjects.get(k)!, signed, signature));
      if (!verified) throw new Invalid('JWS signature is invalid');
      const now = nowMs / 1000;
      const skew = o.clockSkewSeconds;
      const exp = numericDate(claims, 'exp');
      const iat = numericDate(claims, 'iat');
      if (exp === undefined) throw new Invalid('No Expiration Time (exp) claim present');
      if (iat === undefined) throw new Invalid('No Issued At (iat) claim present');
      if (now - skew >= exp) throw new Invalid(`The JWT is no longer valid - the evaluation time ${Math.floor(now)} is on or after the Expiration Time (exp=${exp}) claim value`);
      const nbf = numericDate(claims, 'nbf');
      if (nbf !== undefined && now + skew < nbf) throw new Invalid(`The JWT is not yet valid as the evaluation time ${Math.floor(now)} is before the Not Before (nbf=${nbf}) claim time`);
      if (o.expectedIssuer !== undefined && claims['iss'] !== o.expectedIssuer) throw new Invalid(`Issuer (iss) claim value (${String(claims['iss'])}) doesn't match expected value of ${o.expectedIssuer}`);
      if (o.expectedAudiences.length > 0) {
        const aud = claims['aud'];
        const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
        if (!audiences.some((a) => o.expectedAudiences.includes(a))) throw new Invalid(`Audience (aud) claim ${JSON.stringify(aud ?? null)} doesn't contain an acceptable identifier`);
      }
      const sub = claims[o.subClaimName];
      if (typeof sub !== 'string' || sub.trim() === '') throw new Invalid(`${o.subClaimName} value must be a non-empty string`);
      const scope = scopeOf(claims[o.scopeClaimName], o.scopeClaimName);
      if (exp < 0) throw new Invalid(`exp value must be non-negative; value given was "${exp * 1000}"`);
      if (iat < 0) throw new Invalid(`iat value must be null or non-negative; value given was "${iat * 1000}"`);
      return { token: { principalName: sub.trim(), lifetimeMs: Math.round(exp * 1000), scope } };
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      return { errorStatus: 'invalid_token', reason: `Could not validate the access token: ${err.message}` };
    }
  };
}

function verifies(algorithm: Algorithm, key: KeyObject, signed: Buffer, signature: Buffer): boolean {
  try {
    return verify(algorithm.hash, signed, algorithm.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
  } catch {
    // a signature of the wrong size for the key
    return false;
  }
}

function jsonPart(part: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Invalid(`Malformed JWT provided: the ${what} is not base64url-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Invalid(`Malformed JWT provided: the ${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Invalid(`The value of the '${name}' claim is not the expected type`);
  return v;
}

function scopeOf(raw: unknown, name: string): Set<string> {
  const items = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  const out = new Set<string>();
  for (const item of items) {
    if (typeof item !== 'string' || item.trim() === '') throw new Invalid(`${name} value must be a non-empty string`);
    const s = item.trim();
    if (out.has(s)) throw new Invalid(`${name} value must not contain duplicates - ${s} already present`);
    out.add(s);
  }
  return out;
}
