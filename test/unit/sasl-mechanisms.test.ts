/**
 * The SASL mechanisms on their own (no socket): SCRAM against RFC 7677's test
 * vector and Kafka's failure cases, PLAIN with users from a JAAS config,
 * Kafka's JAAS syntax, and OAUTHBEARER's client message, unsecured tokens and
 * signed tokens checked against a JWKS.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JaasConfigError, parseJaasConfig, parseSingleJaasEntry } from '../../src/security/sasl/jaas-config.js';
import { jwtValidator, parseJwks, type JsonWebKey } from '../../src/security/sasl/oauthbearer-jwt-validator.js';
import { OAuthBearerSaslServer, parseClientInitialResponse } from '../../src/security/sasl/oauthbearer-server.js';
import { unsecuredValidator, unsecuredValidatorOptions } from '../../src/security/sasl/oauthbearer-unsecured-jws.js';
import { PlainSaslServer, plainUsersOf } from '../../src/security/sasl/plain-server.js';
import { SaslAuthenticationError, SaslError } from '../../src/security/sasl/sasl-server.js';
import { authMessage, clientProof, credentialOf, generateCredential, saltedPassword, saslName, usernameOf } from '../../src/security/sasl/scram-formatter.js';
import { SCRAM_SHA_256, SCRAM_SHA_512, type ScramMechanism } from '../../src/security/sasl/scram-mechanism.js';
import { ScramSaslServer } from '../../src/security/sasl/scram-server.js';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('SCRAM', () => {
  // RFC 7677 section 3: user "user", password "pencil"
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const credential = credentialOf(SCRAM_SHA_256, salt, saltedPassword(SCRAM_SHA_256, 'pencil', salt, 4096), 4096);

  it("answers RFC 7677's SCRAM-SHA-256 exchange byte for byte", () => {
    const server = new ScramSaslServer(SCRAM_SHA_256, (m, user) => (m === SCRAM_SHA_256 && user === 'user' ? credential : undefined), () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    const first = server.evaluate(utf8('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(first.toString()).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(server.complete).toBe(false);
    const final = server.evaluate(utf8('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    expect(final.toString()).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    expect(server.complete).toBe(true);
    expect(server.authorizationId()).toBe('user');
    expect(server.credentialExpiresAtMs()).toBeUndefined();
  });

  /** A whole exchange as a client does it; returns the server. */
  function login(m: ScramMechanism, password: string, opts: { user?: string; authzid?: string; extensions?: string } = {}): ScramSaslServer {
    const user = opts.user ?? 'alice';
    const cred = generateCredential(m, 'alice-secret', 4096);
    const server = new ScramSaslServer(m, (mech, u) => (mech === m && u === 'alice' ? cred : undefined));
    const bare = `n=${saslName(user)},r=clientnonce${opts.extensions ?? ''}`;
    const serverFirst = server.evaluate(utf8(`n,${opts.authzid ? `a=${opts.authzid}` : ''},${bare}`)).toString();
    const nonce = /r=([^,]+)/.exec(serverFirst)![1]!;
    const s = Buffer.from(/s=([^,]+)/.exec(serverFirst)![1]!, 'base64');
    const withoutProof = `c=biws,r=${nonce}`;
    const proof = clientProof(m, saltedPassword(m, password, s, 4096), authMessage(bare, serverFirst, withoutProof));
    server.evaluate(utf8(`${withoutProof},p=${proof.toString('base64')}`));
    return server;
  }

  it('authenticates SCRAM-SHA-512 with a generated credential, and refuses a wrong password with a SaslError (the generic message)', () => {
    expect(login(SCRAM_SHA_512, 'alice-secret').authorizationId()).toBe('alice');
    expect(() => login(SCRAM_SHA_512, 'wrong')).toThrow(new SaslError('Invalid client credentials'));
    expect(() => login(SCRAM_SHA_256, 'alice-secret', { user: 'bob' })).toThrow(new SaslError('Authentication failed: Invalid user credentials'));
  });

  it('refuses as Kafka: another authorization id (told to the client), tokenauth (no delegation tokens), low iterations, bad messages', () => {
    expect(() => login(SCRAM_SHA_256, 'alice-secret', { authzid: 'bob' })).toThrow(
      new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username'),
    );
    expect(login(SCRAM_SHA_256, 'alice-secret', { authzid: 'alice', extensions: ',foo=bar' }).complete).toBe(true);
    expect(() => login(SCRAM_SHA_256, 'alice-secret', { extensions: ',tokenauth=true' })).toThrow(SaslError);
    const weak = credentialOf(SCRAM_SHA_256, salt, saltedPassword(SCRAM_SHA_256, 'pencil', salt, 4095), 4095);
    const server = new ScramSaslServer(SCRAM_SHA_256, () => weak);
    expect(() => server.evaluate(utf8('n,,n=user,r=abc'))).toThrow(new SaslError('Iterations 4095 is less than the minimum 4096 for SCRAM-SHA-256'));
    expect(() => server.evaluate(utf8('n,,n=user,r=abc'))).toThrow(/Unexpected challenge in Sasl server state failed/);
    for (const bad of ['', 'y,,n=user,r=abc', 'n,,n=user', 'n,,n=us=er,r=abc', 'n,,n=user,r=a,b', 'p=tls-unique,,n=user,r=abc', 'n,,n=üser,r=abc']) {
      expect(() => new ScramSaslServer(SCRAM_SHA_256, () => credential).evaluate(utf8(bad)), bad).toThrow(SaslError);
    }
    const afterFirst = (): ScramSaslServer => {
      const s = new ScramSaslServer(SCRAM_SHA_256, () => credential, () => 'S');
      s.evaluate(utf8('n,,n=user,r=C'));
      return s;
    };
    expect(() => afterFirst().evaluate(utf8('c=biws,r=CX,p=AAAA'))).toThrow(new SaslError('Invalid client nonce in the final client message.'));
    expect(() => afterFirst().evaluate(utf8('c=biws,r=CS,p=AAAA'))).toThrow(new SaslError('Invalid client credentials'));
    expect(() => afterFirst().evaluate(utf8('c=biws,r=CS,p=not base64'))).toThrow(new SaslError('Invalid SCRAM client final message format'));
  });

  it('escapes user names as saslnames (=3D, =2C) and refuses other "=" sequences', () => {
    expect(saslName('a=b,c')).toBe('a=3Db=2Cc');
    expect(usernameOf('a=3Db=2Cc')).toBe('a=b,c');
    expect(usernameOf('a=4Fb')).toBeUndefined();
  });
});

describe('PLAIN', () => {
  const entry = parseSingleJaasEntry(
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";',
  );
  const users = plainUsersOf(entry);

  it('takes its users from the user_<name> options of a PlainLoginModule entry', () => {
    expect([...users]).toEqual([['admin', 'admin-secret'], ['alice', 'alice-secret']]);
    expect(plainUsersOf(parseSingleJaasEntry('com.example.Other required user_x="y";')).size).toBe(0);
  });

  it("authenticates authzid NUL user NUL password and fails with Kafka's messages", () => {
    const ok = new PlainSaslServer(users);
    expect(ok.evaluate(utf8('\u0000alice\u0000alice-secret'))).toEqual(Buffer.alloc(0));
    expect([ok.complete, ok.authorizationId()]).toEqual([true, 'alice']);
    expect(new PlainSaslServer(users).evaluate(utf8('alice\u0000alice\u0000alice-secret')).length).toBe(0);
    const cases: Array<[string, string]> = [
      ['\u0000alice\u0000wrong', 'Authentication failed: Invalid username or password'],
      ['\u0000nobody\u0000alice-secret', 'Authentication failed: Invalid username or password'],
      ['\u0000\u0000alice-secret', 'Authentication failed: username not specified'],
      ['\u0000alice\u0000', 'Authentication failed: password not specified'],
      ['admin\u0000alice\u0000alice-secret', 'Authentication failed: Client requested an authorization id that is different from username'],
      ['alice-secret', 'Invalid SASL/PLAIN response: expected 3 tokens, got 1'],
      ['\u0000a\u0000b\u0000c\u0000d\u0000e', 'Invalid SASL/PLAIN response: expected 3 tokens, got 4'],
    ];
    for (const [token, message] of cases) expect(() => new PlainSaslServer(users).evaluate(utf8(token))).toThrow(new SaslAuthenticationError(message));
  });
});

describe('JAAS config', () => {
  it("reads Kafka's syntax: comments, quotes with escapes, several entries, any case of control flag", () => {
    const entries = parseJaasConfig(`
      // a comment
      org.apache.kafka.common.security.scram.ScramLoginModule Required /* inline */ a="x\\ty" b='q"uote' c=word-with.dots_and$;
      Other optional;`);
    expect(entries.map((e) => [e.loginModule, e.controlFlag, Object.fromEntries(e.options)])).toEqual([
      ['org.apache.kafka.common.security.scram.ScramLoginModule', 'REQUIRED', { a: 'x\ty', b: 'q"uote', c: 'word-with.dots_and$' }],
      ['Other', 'OPTIONAL', {}],
    ]);
  });

  it("refuses what Kafka refuses, naming keys and never values", () => {
    const cases: Array<[string, string]> = [
      ['', 'Login module not specified in JAAS config'],
      ['Module', 'Login module control flag not specified in JAAS config'],
      ['Module whenever;', "Invalid login module control flag 'whenever' in JAAS config"],
      ['Module required key=5000;', "Value not specified for key 'key' in JAAS config"],
      ['Module required password;', "Value not specified for key 'password' in JAAS config"],
      ['Module required password="secret"', 'JAAS config entry not terminated by semi-colon'],
    ];
    for (const [text, message] of cases) expect(() => parseJaasConfig(text), text).toThrow(new JaasConfigError(message));
    expect(() => parseSingleJaasEntry('A required; B required;')).toThrow('JAAS config property contains 2 login modules, should be 1 module');
  });
});

/** An unsecured token as librdkafka makes them. */
function unsecuredToken(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'none' }): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64(header)}.${b64(claims)}.`;
}

function initialResponse(token: string, authzid = '', extensions = ''): Buffer {
  return utf8(`n,${authzid ? `a=${authzid}` : ''},\u0001auth=Bearer ${token}\u0001${extensions}\u0001`);
}

describe('OAUTHBEARER', () => {
  const now = 1_700_000_000_000;
  const seconds = now / 1000;

  it("parses RFC 7628's client initial response, extensions included, and refuses other forms", () => {
    expect(parseClientInitialResponse(initialResponse('abc.def.', 'alice', 'traceId=123\u0001'))).toEqual({
      tokenValue: 'abc.def.',
      authorizationId: 'alice',
      extensions: new Map([['traceId', '123']]),
    });
    for (const bad of ['n,,\u0001\u0001', 'n,,\u0001auth=Basic abc\u0001\u0001', 'n,,\u0001auth=Bearer\u0001\u0001', 'n,,auth=Bearer x\u0001\u0001', 'garbage']) {
      expect(() => parseClientInitialResponse(utf8(bad)), JSON.stringify(bad)).toThrow(SaslError);
    }
  });

  it('accepts a valid unsecured token, as Kafka: the principal claim, its expiry as the credential lifetime', () => {
    const server = new OAuthBearerSaslServer(unsecuredValidator(unsecuredValidatorOptions(new Map())), () => now);
    expect(server.evaluate(initialResponse(unsecuredToken({ sub: 'alice', iat: seconds - 10, exp: seconds + 60 })))).toEqual(Buffer.alloc(0));
    expect([server.complete, server.authorizationId(), server.credentialExpiresAtMs()]).toEqual([true, 'alice', now + 60_000]);
  });

  it('answers a refused token with the JSON error, then fails with it as the message at the client\'s 0x01', () => {
    const refuse = (claims: Record<string, unknown>, options = new Map<string, string>(), header?: Record<string, unknown>): [string, string | undefined] => {
      const server = new OAuthBearerSaslServer(unsecuredValidator(unsecuredValidatorOptions(options)), () => now);
      const answer = server.evaluate(initialResponse(unsecuredToken(claims, header))).toString();
      expect(server.complete).toBe(false);
      expect(() => server.evaluate(Buffer.from([1]))).toThrow(new SaslAuthenticationError(answer));
      return [answer, server.rejectionReason];
    };
    expect(refuse({ sub: 'alice', exp: seconds - 1 })).toEqual([
      '{"status":"invalid_token"}',
      `The indicated time (${now} ms) minus allowable clock skew (0 ms) was on or after the Expiration Time value (${seconds - 1} seconds)`,
    ]);
    expect(refuse({ sub: 'alice' })[1]).toBe('No expiration time in JWT');
    expect(refuse({ exp: seconds + 60 })[1]).toBe('No principal name in JWT claim: sub');
    expect(refuse({ sub: 'alice', exp: seconds + 60 }, new Map(), { alg: 'HS256' })[1]).toBe("Unsecured JWS must have 'none' for an algorithm");
    expect(refuse({ sub: 'alice', exp: seconds + 60, scope: 'read' }, new Map([['unsecuredValidatorRequiredScope', 'read write']]))[0]).toBe(
      '{"status":"insufficient_scope", "scope":"[read, write]"}',
    );
    // the options: another principal claim, a clock skew
    const opts = new Map([['unsecuredValidatorPrincipalClaimName', 'user'], ['unsecuredValidatorAllowableClockSkewMs', '5000']]);
    const server = new OAuthBearerSaslServer(unsecuredValidator(unsecuredValidatorOptions(opts)), () => now);
    server.evaluate(initialResponse(unsecuredToken({ user: 'bob', exp: seconds - 2, scope: ['a', 'b'] })));
    expect(server.authorizationId()).toBe('bob');
    expect(() => unsecuredValidatorOptions(new Map([['unsecuredValidatorAllowableClockSkewMs', '-1']]))).toThrow('Allowable clock skew millis must not be negative: -1');
  });

  it('refuses an authorization id other than the principal', () => {
    const server = new OAuthBearerSaslServer(unsecuredValidator(unsecuredValidatorOptions(new Map())), () => now);
    expect(() => server.evaluate(initialResponse(unsecuredToken({ sub: 'alice', exp: seconds + 60 }), 'bob'))).toThrow(
      new SaslAuthenticationError("Authentication failed: Client requested an authorization id (bob) that is different from the token's principal name (alice)"),
    );
  });

  describe('signed tokens against a JWKS', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwks = JSON.stringify({
      keys: [
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' },
      ],
    });
    const keys: JsonWebKey[] = parseJwks(jwks);
    const validator = jwtValidator({ keys, clockSkewSeconds: 30, expectedAudiences: ['kafka'], expectedIssuer: 'https://issuer', subClaimName: 'sub', scopeClaimName: 'scope' });

    function signed(alg: 'RS256' | 'ES256', key: KeyObject, claims: Record<string, unknown>, kid?: string): string {
      const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${b64({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(claims)}`;
      const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
      return `${input}.${sig.toString('base64url')}`;
    }
    const good = { sub: 'carol', iss: 'https://issuer', aud: ['kafka', 'other'], iat: seconds - 5, exp: seconds + 300, scope: 'produce consume' };

    it('accepts RS256 and ES256 tokens signed by a key of the JWKS (by kid, or by trying the keys that fit)', () => {
      expect(validator(signed('RS256', rsa.privateKey, good, 'rsa-1'), now)).toEqual({ token: { principalName: 'carol', lifetimeMs: now + 300_000, scope: new Set(['produce consume']) } });
      expect(validator(signed('ES256', ec.privateKey, good), now)).toMatchObject({ token: { principalName: 'carol' } });
    });

    it('refuses as invalid_token: another key, a forged or unsigned token, a wrong kid, expired, wrong audience or issuer, no iat', () => {
      const reason = (token: string): string => {
        const v = validator(token, now);
        expect('errorStatus' in v && v.errorStatus).toBe('invalid_token');
        return 'reason' in v ? v.reason : '';
      };
      expect(reason(signed('RS256', other.privateKey, good, 'rsa-1'))).toMatch(/signature is invalid/);
      expect(reason(signed('RS256', rsa.privateKey, good, 'nope'))).toMatch(/Unable to find a suitable verification key/);
      const [h, , s] = signed('RS256', rsa.privateKey, good, 'rsa-1').split('.');
      expect(reason(`${h}.${Buffer.from(JSON.stringify({ ...good, sub: 'admin' })).toString('base64url')}.${s}`)).toMatch(/signature is invalid/);
      expect(reason(unsecuredToken(good))).toMatch(/'none' is not an accepted signature algorithm/);
      expect(reason(signed('ES256', ec.privateKey, { ...good, exp: seconds - 31 }))).toMatch(/no longer valid/);
      expect(validator(signed('ES256', ec.privateKey, { ...good, exp: seconds - 29 }), now)).toHaveProperty('token');
      expect(reason(signed('ES256', ec.privateKey, { ...good, aud: 'web' }))).toMatch(/Audience/);
      expect(reason(signed('ES256', ec.privateKey, { ...good, iss: 'https://evil' }))).toMatch(/Issuer/);
      const { iat: _iat, ...noIat } = good;
      expect(reason(signed('ES256', ec.privateKey, noIat))).toMatch(/Issued At/);
      expect(reason('a.b')).toMatch(/Malformed JWT/);
    });
  });
});
