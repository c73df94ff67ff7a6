/**
 * OAUTHBEARER with signed JWTs on a real broker: Kafka's
 * OAuthBearerValidatorCallbackHandler configured on the listener with a JWKS
 * file (`sasl.oauthbearer.jwks.endpoint.url=file:…`), expected audience and
 * issuer. kafkajs (its oauthBearerProvider) produces with an RS256 token, a
 * raw client authenticates with an ES256 one and gets the token's remaining
 * lifetime as its session lifetime; a token of another key, or for another
 * audience, is refused with `{"status":"invalid_token"}`. Bad settings stop
 * the start with a clear message.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { oauthInitialResponse, startSaslBroker, type SaslBroker } from '../helpers/sasl.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwt(alg: 'RS256' | 'ES256', key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg, kid, typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key).toString('base64url')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ sub: 'svc-orders', iss: 'https://idp.example', aud: 'kafka', iat: now(), exp: now() + 600, ...extra });

describe('OAUTHBEARER with a JWKS file', () => {
  let dir: string;
  let jwks: string;
  let b: SaslBroker;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gregor-jwks-'));
    jwks = join(dir, 'jwks.json');
    await writeFile(jwks, JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1', use: 'sig' }, { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' }] }));
    b = await startSaslBroker({
      'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
      'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwks).href,
      'sasl.oauthbearer.expected.audience': 'kafka',
      'sasl.oauthbearer.expected.issuer': 'https://idp.example',
    });
  });
  afterAll(async () => {
    await b?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  const kafka = (token: string) =>
    new Kafka({
      clientId: 'jwks',
      brokers: [`127.0.0.1:${b.saslPort}`],
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });

  it('kafkajs produces with an RS256 token signed by a key of the JWKS', async () => {
    const producer = kafka(jwt('RS256', rsa.privateKey, 'r1', claims())).producer();
    await producer.connect();
    await producer.send({ topic: 'jwks-orders', messages: [{ value: 'signed' }] });
    await producer.disconnect();
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'OAUTHBEARER', 'success')).toBeGreaterThan(0);
  });

  it('authenticates an ES256 token, as its sub, with the token\'s remaining lifetime as the session lifetime', async () => {
    const c = await RawClient.connect(b.saslPort);
    await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'OAUTHBEARER' });
    const res = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 1, { authBytes: oauthInitialResponse(jwt('ES256', ec.privateKey, 'e1', claims())) });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(Number(res.sessionLifetimeMs)).toBeGreaterThan(590_000);
    expect([...b.broker.connections].some((conn) => conn.session.principal.name === 'svc-orders')).toBe(true);
    c.close();
  });

  it('refuses a token of another key, for another audience or issuer, or expired: {"status":"invalid_token"}', async () => {
    for (const token of [
      jwt('RS256', stranger.privateKey, 'r1', claims()),
      jwt('RS256', rsa.privateKey, 'r1', claims({ aud: 'web' })),
      jwt('RS256', rsa.privateKey, 'r1', claims({ iss: 'https://evil.example' })),
      jwt('ES256', ec.privateKey, 'e1', claims({ exp: now() - 120 })),
    ]) {
      const c = await RawClient.connect(b.saslPort);
      await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'OAUTHBEARER' });
      const challenge = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes: oauthInitialResponse(token) });
      expect([challenge.errorCode, challenge.authBytes.toString()]).toEqual([ErrorCode.NONE, '{"status":"invalid_token"}']);
      const refused = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes: Buffer.from([1]) });
      expect([refused.errorCode, refused.errorMessage]).toEqual([ErrorCode.SASL_AUTHENTICATION_FAILED, '{"status":"invalid_token"}']);
      await c.closed;
    }
    // kafkajs takes the JSON challenge for success (it never answers 0x01): its first request closes the connection
    const admin = kafka(jwt('RS256', stranger.privateKey, 'r1', claims())).admin();
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow();
    await admin.disconnect();
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'OAUTHBEARER', 'failure')).toBe(4);
    // the refusals are logged with their reason, never the token
    expect(b.logs.join('')).toContain('Could not validate the access token');
  });

  it('stops the start for a JWKS URL that is not a readable file: URL, and for a callback handler class it cannot load', async () => {
    const base = { 'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler' };
    await expect(startSaslBroker({ ...base, 'sasl.oauthbearer.jwks.endpoint.url': 'https://idp.example/jwks' })).rejects.toThrow(/only file: URLs are supported/);
    await expect(startSaslBroker({ ...base, 'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(join(dir, 'missing.json')).href })).rejects.toThrow(/doesn't exist/);
    await expect(startSaslBroker({ 'listener.name.sasl_plaintext.plain.sasl.server.callback.handler.class': 'com.example.Users' })).rejects.toThrow(/cannot load SASL callback handler classes/);
    await expect(startSaslBroker({ 'sasl.enabled.mechanisms': 'GSSAPI' })).rejects.toThrow(/GSSAPI \(Kerberos, Kafka's default\) is not supported/);
  });
});
