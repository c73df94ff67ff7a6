/**
 * SASL on the wire, against a real broker on real sockets with our own codec
 * client, where exact control of the requests is needed: Kafka's
 * SaslServerAuthenticator order (ApiVersions once, SaslHandshake, then
 * SaslAuthenticate or, after SaslHandshake v0, raw tokens), its errors and
 * messages, the failed-authentication delay and close, KIP-368 session
 * lifetimes and re-authentication, and DescribeUserScramCredentials /
 * AlterUserScramCredentials (KIP-554) with their errors, stored across a
 * restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { saltedPassword } from '../../src/security/sasl/scram-formatter.js';
import { SCRAM_SHA_256, SCRAM_SHA_512 } from '../../src/security/sasl/scram-mechanism.js';
import { RawClient } from '../helpers/raw-client.js';
import { addScramUser, oauthInitialResponse, scramClient, startSaslBroker, unsecuredJwt, type SaslBroker } from '../helpers/sasl.js';

const ENABLED = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
const plainToken = (user: string, password: string): Buffer => Buffer.from(`\u0000${user}\u0000${password}`);

describe('SASL on the wire', () => {
  let b: SaslBroker;

  beforeAll(async () => {
    b = await startSaslBroker({ 'listener.name.sasl_plaintext.scram-sha-512.connections.max.reauth.ms': 60_000 });
    await addScramUser(b.plaintextPort, 'carol', 'carol-secret', SCRAM_SHA_256);
    await addScramUser(b.plaintextPort, 'carol', 'carol-secret', SCRAM_SHA_512, 8192);
  });
  afterAll(async () => {
    await b?.remove();
  });

  /** A connection to the SASL listener that has done SaslHandshake v1 with `mechanism`. */
  async function handshaken(mechanism: string): Promise<RawClient> {
    const c = await RawClient.connect(b.saslPort);
    const hs = await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism });
    expect(hs).toEqual({ errorCode: ErrorCode.NONE, mechanisms: ENABLED });
    return c;
  }

  const authenticate = (c: RawClient, version: number, authBytes: Buffer) =>
    c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, version, { authBytes });

  it('authenticates PLAIN with SaslHandshake v1 and SaslAuthenticate v0-2, then serves requests as User:alice', async () => {
    for (const version of [0, 1, 2]) {
      const c = await RawClient.connect(b.saslPort);
      expect((await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode).toBe(ErrorCode.NONE);
      expect(await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' })).toEqual({ errorCode: ErrorCode.NONE, mechanisms: ENABLED });
      const res = await authenticate(c, version, plainToken('alice', 'alice-secret'));
      expect(res).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null, authBytes: Buffer.alloc(0) });
      if (version >= 1) expect(res.sessionLifetimeMs).toBe(0n);
      const md = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null });
      expect(md.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: b.saslPort, rack: null }]);
      const session = [...b.broker.connections].find((conn) => conn.remotePort !== 0 && conn.session.principal.name === 'alice');
      expect(session?.session.principal).toEqual({ principalType: 'User', name: 'alice' });
      // after authentication, the SASL requests reach the API layer: ILLEGAL_SASL_STATE, connection kept
      expect(await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' })).toEqual({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
      expect((await authenticate(c, version, plainToken('alice', 'alice-secret'))).errorMessage).toBe('SaslAuthenticate request received after successful authentication');
      expect(c.isClosed).toBe(false);
      c.close();
    }
  });

  it("fails a wrong PLAIN password with SASL_AUTHENTICATION_FAILED and Kafka's message, after the delay, then closes", async () => {
    const c = await handshaken('PLAIN');
    expect(await authenticate(c, 2, plainToken('alice', 'wrong'))).toEqual({
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: 'Authentication failed: Invalid username or password',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    });
    await c.closed;
  });

  it('authenticates SCRAM-SHA-256 and -512 over SaslAuthenticate; the 512 session gets its connections.max.reauth.ms', async () => {
    for (const [mechanism, lifetime] of [[SCRAM_SHA_256, 0n], [SCRAM_SHA_512, 60_000n]] as const) {
      const c = await handshaken(mechanism.name);
      let last: bigint | undefined;
      const serverFinal = await scramClient(mechanism, 'carol', 'carol-secret', async (token) => {
        const res = await authenticate(c, 1, token);
        expect(res.errorCode).toBe(ErrorCode.NONE);
        last = res.sessionLifetimeMs;
        return res.authBytes;
      });
      expect(serverFinal).toMatch(/^v=/);
      expect(last).toBe(lifetime);
      expect((await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [] })).brokers).toHaveLength(1);
      c.close();
    }
  });

  it("fails SCRAM for a wrong password or an unknown user with Kafka's generic message", async () => {
    for (const [user, password] of [['carol', 'wrong'], ['nobody', 'x']]) {
      const c = await handshaken('SCRAM-SHA-256');
      const errors: Array<string | null> = [];
      await scramClient(SCRAM_SHA_256, user!, password!, async (token) => {
        const res = await authenticate(c, 2, token);
        errors.push(res.errorMessage);
        if (res.errorCode !== ErrorCode.NONE) throw new Error(res.errorMessage ?? '');
        return res.authBytes;
      }).catch(() => undefined);
      expect(errors.at(-1)).toBe('Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256');
      await c.closed;
    }
  });

  it('speaks the v0 flow: after SaslHandshake v0 the tokens are raw frames (PLAIN and SCRAM)', async () => {
    const plain = await RawClient.connect(b.saslPort);
    expect(await plain.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 0, { mechanism: 'PLAIN' })).toEqual({ errorCode: ErrorCode.NONE, mechanisms: ENABLED });
    expect(await plain.rawExchange(plainToken('alice', 'alice-secret'))).toEqual(Buffer.alloc(0));
    expect((await plain.request(schemas.metadataRequest, schemas.metadataResponse, 1, { topics: [] })).brokers).toHaveLength(1);
    plain.close();
    const scram = await RawClient.connect(b.saslPort);
    await scram.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 0, { mechanism: 'SCRAM-SHA-512' });
    expect(await scramClient(SCRAM_SHA_512, 'carol', 'carol-secret', (t) => scram.rawExchange(t))).toMatch(/^v=/);
    expect((await scram.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})).errorCode).toBe(ErrorCode.NONE);
    scram.close();
    // a wrong password with raw tokens: no answer, the connection closes
    const bad = await RawClient.connect(b.saslPort);
    await bad.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 0, { mechanism: 'PLAIN' });
    await expect(bad.rawExchange(plainToken('alice', 'nope'))).rejects.toThrow('connection closed');
  });

  it('answers an unsupported mechanism with UNSUPPORTED_SASL_MECHANISM and the enabled list, then closes', async () => {
    for (const mechanism of ['GSSAPI', 'scram-sha-256', 'X'.repeat(300)]) {
      const c = await RawClient.connect(b.saslPort);
      expect(await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism })).toEqual({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ENABLED });
      await c.closed;
    }
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'unknown', 'failure')).toBeGreaterThanOrEqual(2);
  });

  it("keeps Kafka's order: other requests before authentication, ApiVersions twice, SaslAuthenticate first: closed; a second SaslHandshake: ILLEGAL_SASL_STATE, closed", async () => {
    const closedBy = async (send: (c: RawClient) => Promise<unknown>[]): Promise<void> => {
      const c = await RawClient.connect(b.saslPort);
      const results = await Promise.allSettled(send(c));
      expect(results.at(-1)!.status).toBe('rejected');
      await c.closed;
    };
    await closedBy((c) => [c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null })]);
    await closedBy((c) => [c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {}), c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})]);
    await closedBy((c) => [authenticate(c, 1, plainToken('alice', 'alice-secret'))]);
    await closedBy((c) => [
      c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' }),
      c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null }),
    ]);
    const c = await handshaken('PLAIN');
    expect(await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' })).toEqual({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
    await c.closed;
  });

  it('answers a refused OAUTHBEARER token with the JSON error, then fails with it as the message', async () => {
    const c = await handshaken('OAUTHBEARER');
    const expired = unsecuredJwt({ sub: 'dave', exp: Math.floor(Date.now() / 1000) - 60 });
    const first = await authenticate(c, 2, oauthInitialResponse(expired));
    expect([first.errorCode, first.authBytes.toString()]).toEqual([ErrorCode.NONE, '{"status":"invalid_token"}']);
    expect(await authenticate(c, 2, Buffer.from([1]))).toMatchObject({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: '{"status":"invalid_token"}' });
    await c.closed;
    // a valid one: the session lifetime is what is left of the token's
    const ok = await handshaken('OAUTHBEARER');
    const res = await authenticate(ok, 1, oauthInitialResponse(unsecuredJwt({ sub: 'dave', exp: Math.floor(Date.now() / 1000) + 120 })));
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(Number(res.sessionLifetimeMs)).toBeGreaterThan(100_000);
    expect(Number(res.sessionLifetimeMs)).toBeLessThanOrEqual(120_000);
    ok.close();
  });

  it('describes and alters SCRAM credentials with KIP-554\'s errors', async () => {
    const c = await RawClient.connect(b.plaintextPort);
    try {
      const salt = Buffer.from('salt');
      const salted = saltedPassword(SCRAM_SHA_256, 'pw', salt, 4096);
      const up = (name: string, mechanism: number, iterations = 4096) => ({ name, mechanism, iterations, salt, saltedPassword: salted });
      const alter = (deletions: Array<{ name: string; mechanism: number }>, upsertions: Array<ReturnType<typeof up>>) =>
        c.request(schemas.alterUserScramCredentialsRequest, schemas.alterUserScramCredentialsResponse, 0, { deletions, upsertions });
      expect((await alter([{ name: 'ghost', mechanism: 1 }], [up('erin', 1), up('low', 1, 4095), up('high', 2, 16385), up('', 1), up('odd', 3), up('twice', 1), up('twice', 2)])).results).toEqual([
        { user: 'erin', errorCode: ErrorCode.NONE, errorMessage: null },
        { user: 'ghost', errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' },
        { user: 'low', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' },
        { user: 'high', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations' },
        { user: '', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' },
        { user: 'odd', errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' },
        { user: 'twice', errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' },
      ]);
      const describe = (users: string[] | null) => c.request(schemas.describeUserScramCredentialsRequest, schemas.describeUserScramCredentialsResponse, 0, { users: users?.map((name) => ({ name })) ?? null });
      expect(await describe(['carol', 'erin', 'nobody', 'erin'])).toEqual({
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        results: [
          { user: 'carol', errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }, { mechanism: 2, iterations: 8192 }] },
          { user: 'erin', errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request: erin', credentialInfos: [] },
          { user: 'nobody', errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist: nobody', credentialInfos: [] },
        ],
      });
      expect((await describe(null)).results.map((r) => r.user)).toEqual(['carol', 'erin']);
      expect((await alter([{ name: 'erin', mechanism: 1 }], [])).results).toEqual([{ user: 'erin', errorCode: ErrorCode.NONE, errorMessage: null }]);
      expect((await describe([])).results.map((r) => r.user)).toEqual(['carol']);
    } finally {
      c.close();
    }
  });

  it('refuses re-authentication with another mechanism or another principal, and closes', async () => {
    // SCRAM-SHA-512 sessions have a lifetime here, so a SaslHandshake re-authenticates
    const login = async (): Promise<RawClient> => {
      const c = await handshaken('SCRAM-SHA-512');
      await scramClient(SCRAM_SHA_512, 'carol', 'carol-secret', async (t) => (await authenticate(c, 1, t)).authBytes);
      return c;
    };
    const other = await login();
    expect(await other.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' })).toEqual({ errorCode: ErrorCode.NONE, mechanisms: ENABLED });
    await expect(authenticate(other, 1, plainToken('alice', 'alice-secret'))).rejects.toThrow('connection closed');
    await addScramUser(b.plaintextPort, 'frank', 'frank-secret', SCRAM_SHA_512);
    const swap = await login();
    await swap.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'SCRAM-SHA-512' });
    const messages: Array<string | null> = [];
    await scramClient(SCRAM_SHA_512, 'frank', 'frank-secret', async (t) => {
      const res = await authenticate(swap, 1, t);
      messages.push(res.errorMessage);
      return res.authBytes;
    }).catch(() => undefined);
    expect(messages.at(-1)).toBe('Cannot change principals during re-authentication from User.carol: User.frank');
    await swap.closed;
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'failure', true)).toBe(1);
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'PLAIN', 'failure', true)).toBe(1);
  });
});

describe('KIP-368 session lifetime', () => {
  it('closes a connection past its lifetime at its next request, and re-authenticates one that asks in time', async () => {
    const b = await startSaslBroker({ 'connections.max.reauth.ms': 1500, 'gregor.metrics.enabled': 'true', 'gregor.metrics.host': '127.0.0.1', 'gregor.metrics.port': 0 });
    try {
      const login = async (): Promise<RawClient> => {
        const c = await RawClient.connect(b.saslPort);
        await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' });
        const res = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 1, { authBytes: plainToken('alice', 'alice-secret') });
        expect(res.sessionLifetimeMs).toBe(1500n);
        return c;
      };
      const stale = await login();
      const fresh = await login();
      await new Promise((r) => setTimeout(r, 1700));
      // re-authentication on the same connection, past the lifetime: SaslHandshake is still admitted
      expect((await fresh.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' })).errorCode).toBe(ErrorCode.NONE);
      const again = await fresh.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes: plainToken('alice', 'alice-secret') });
      expect([again.errorCode, again.sessionLifetimeMs]).toEqual([ErrorCode.NONE, 1500n]);
      expect((await fresh.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [] })).brokers).toHaveLength(1);
      // the other one is closed at its next request
      await expect(stale.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [] })).rejects.toThrow('connection closed');
      expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'PLAIN', 'success', true)).toBe(1);
      fresh.close();
      // the counts, per listener, mechanism and result, in the metrics
      const text = await (await fetch(`http://127.0.0.1:${b.broker.metricsPort}/metrics`)).text();
      expect(text).toContain('gregor_sasl_authentications_total{listener="SASL_PLAINTEXT",mechanism="PLAIN",result="success"} 2');
      expect(text).toContain('gregor_sasl_authentications_total{listener="SASL_PLAINTEXT",mechanism="SCRAM-SHA-256",result="failure"} 0');
      expect(text).toContain('gregor_sasl_reauthentications_total{listener="SASL_PLAINTEXT",mechanism="PLAIN",result="success"} 1');
    } finally {
      await b.remove();
    }
  });
});

describe('SCRAM credentials are durable', () => {
  it('keeps credentials across a restart, and a login after it succeeds', async () => {
    const first = await startSaslBroker();
    await addScramUser(first.plaintextPort, 'gina', 'gina-secret', SCRAM_SHA_256);
    await first.close();
    const second = await startSaslBroker({}, first.dataDir);
    try {
      const c = await RawClient.connect(second.saslPort);
      await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'SCRAM-SHA-256' });
      const final = await scramClient(SCRAM_SHA_256, 'gina', 'gina-secret', async (t) => (await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 1, { authBytes: t })).authBytes);
      expect(final).toMatch(/^v=/);
      c.close();
    } finally {
      await second.remove();
    }
  });
});
