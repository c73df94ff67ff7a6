/**
 * Fuzzing the SASL path of a real broker over raw sockets: garbage before
 * the handshake, malformed and mutated SCRAM client-first and client-final
 * messages (in SaslAuthenticate and as v0 raw tokens), malformed PLAIN and
 * OAUTHBEARER tokens, tokens up to the largest frame accepted and frames
 * beyond sasl.server.max.receive.size. Every case ends with its connection
 * closed (after at most a SASL_AUTHENTICATION_FAILED answer), the broker
 * then still authenticates a good login, logged no error, and none of its
 * log lines holds a password that was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { SCRAM_SHA_256 } from '../../src/security/sasl/scram-mechanism.js';
import { seededRng, type Rng } from '../unit/protocol-values.js';
import { RawClient } from '../helpers/raw-client.js';
import { addScramUser, oauthInitialResponse, scramClient, startSaslBroker, type SaslBroker } from '../helpers/sasl.js';

/** A password sent in many cases; it must never be logged. */
const SECRET = 'Fuzz-S3cret-Pa55word';
const CASES = Number(process.env.GREGOR_SASL_FUZZ_CASES ?? 1000);
const MAX_RECEIVE = 64 * 1024;

/** A fresh connection's bytes for one case, and what it expects. */
interface Case {
  readonly name: string;
  /** Runs the case on a connected client; resolves when the client has seen the broker close. */
  run(c: RawClient): Promise<void>;
}

function mutate(rng: Rng, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const n = 1 + Math.floor(rng() * 4);
  for (let i = 0; i < n && out.length > 0; i++) {
    const at = Math.floor(rng() * out.length);
    switch (Math.floor(rng() * 4)) {
      case 0:
        out[at] = out[at]! ^ (1 << Math.floor(rng() * 8));
        break;
      case 1:
        out[at] = [0x00, 0x2c, 0x3d, 0x01, 0xff, 0x80][Math.floor(rng() * 6)]!;
        break;
      case 2:
        return out.subarray(0, at);
      default:
        return Buffer.concat([out.subarray(0, at), Buffer.alloc(Math.floor(rng() * 64), Math.floor(rng() * 256)), out.subarray(at)]);
    }
  }
  return out;
}

describe('SASL fuzzing', () => {
  let b: SaslBroker;

  beforeAll(async () => {
    b = await startSaslBroker({ 'sasl.server.max.receive.size': MAX_RECEIVE, 'connection.failed.authentication.delay.ms': 0 });
    await addScramUser(b.plaintextPort, 'carol', SECRET, SCRAM_SHA_256);
  });
  afterAll(async () => {
    await b?.remove();
  });

  const handshake = async (c: RawClient, mechanism: string, version = 1): Promise<void> => {
    expect((await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, version, { mechanism })).errorCode).toBe(ErrorCode.NONE);
  };
  /** A SaslAuthenticate whose answer, if any, is a failure; then the connection closes. */
  const failsWith = async (c: RawClient, authBytes: Buffer): Promise<void> => {
    const res = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes }).catch(() => undefined);
    if (res !== undefined && res.errorCode === ErrorCode.NONE) {
      // a mutation that is still a valid message: the exchange goes on; a garbage token ends it
      const next = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes: Buffer.from('garbage') }).catch(() => undefined);
      if (next !== undefined) expect(next.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    } else if (res !== undefined) {
      expect(res.errorCode, `${JSON.stringify(authBytes.toString())} ${res.errorMessage}`).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    }
    await c.closed;
  };

  function cases(rng: Rng): Case[] {
    const clientFirst = Buffer.from('n,,n=carol,r=fuzznonce');
    const out: Case[] = [];
    for (let i = 0; i < CASES; i++) {
      const kind = i % 8;
      if (kind === 0) {
        // garbage before any handshake: random frames, or bytes that are not even a frame
        const body = Buffer.alloc(Math.floor(rng() * 200), 0);
        for (let j = 0; j < body.length; j++) body[j] = Math.floor(rng() * 256);
        out.push({
          name: `garbage ${i}`,
          run: async (c) => {
            const size = Buffer.alloc(4);
            size.writeInt32BE(rng() < 0.2 ? -1 - Math.floor(rng() * 1000) : body.length, 0);
            c.sendRaw(Buffer.concat([size, body]));
            c.sendRaw(Buffer.from(`GET / HTTP/1.1\r\nAuthorization: Basic ${Buffer.from(`alice:${SECRET}`).toString('base64')}\r\n\r\n`));
            await c.closed;
          },
        });
      } else if (kind === 1) {
        const token = mutate(rng, clientFirst);
        out.push({ name: `client-first ${i}`, run: async (c) => (await handshake(c, 'SCRAM-SHA-256'), failsWith(c, token)) });
      } else if (kind === 2) {
        out.push({
          name: `client-final ${i}`,
          run: async (c) => {
            await handshake(c, 'SCRAM-SHA-256');
            let round = 0;
            const done = await scramClient(SCRAM_SHA_256, 'carol', SECRET, async (token) => {
              const t = round++ === 0 ? token : mutate(rng, token);
              const res = await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 1, { authBytes: t });
              if (res.errorCode !== ErrorCode.NONE) throw new Error('refused');
              return res.authBytes;
            }).catch(() => undefined);
            // (a mutation may leave the proof valid: a flipped unused bit of its last base64 character)
            if (done === undefined) await c.closed;
          },
        });
      } else if (kind === 3) {
        // v0: raw tokens; a bad one closes without an answer
        const token = mutate(rng, clientFirst);
        out.push({
          name: `raw client-first ${i}`,
          run: async (c) => {
            await handshake(c, 'SCRAM-SHA-256', 0);
            const answer = await c.rawExchange(token).catch(() => undefined);
            if (answer !== undefined) await c.rawExchange(mutate(rng, Buffer.from('c=biws,r=x,p=AAAA'))).catch(() => undefined);
            await c.closed;
          },
        });
      } else if (kind === 4) {
        const token = mutate(rng, Buffer.from(`alice\u0000bob\u0000${SECRET}`));
        out.push({ name: `plain ${i}`, run: async (c) => (await handshake(c, 'PLAIN'), failsWith(c, token)) });
      } else if (kind === 5) {
        const token = mutate(rng, oauthInitialResponse(`eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ sub: SECRET, exp: 1 })).toString('base64url')}.`));
        out.push({ name: `oauthbearer ${i}`, run: async (c) => (await handshake(c, 'OAUTHBEARER'), failsWith(c, token)) });
      } else if (kind === 6) {
        // tokens up to the limit: refused, and nothing is logged of them
        const size = Math.floor(rng() * (MAX_RECEIVE - 100));
        const token = Buffer.alloc(size, SECRET);
        out.push({ name: `large token ${i}`, run: async (c) => (await handshake(c, ['PLAIN', 'SCRAM-SHA-256', 'OAUTHBEARER'][i % 3]!), failsWith(c, token)) });
      } else {
        // a frame beyond sasl.server.max.receive.size, announced before or after the handshake
        out.push({
          name: `oversized ${i}`,
          run: async (c) => {
            if (rng() < 0.5) await handshake(c, 'PLAIN', 0);
            const size = Buffer.alloc(4);
            size.writeInt32BE(MAX_RECEIVE + 1 + Math.floor(rng() * 10_000_000), 0);
            c.sendRaw(Buffer.concat([size, Buffer.alloc(1024, 0x41)]));
            await c.closed;
          },
        });
      }
    }
    return out;
  }

  it(`closes the connection of each of ${CASES} malformed exchanges, then still authenticates, without logging an error or a password`, async () => {
    const all = cases(seededRng(20_261_207));
    const WORKERS = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < all.length) {
          const c = all[next++]!;
          const client = await RawClient.connect(b.saslPort);
          const deadline = setTimeout(() => client.close(), 10_000);
          const started = Date.now();
          try {
            await c.run(client);
          } finally {
            clearTimeout(deadline);
            client.close();
          }
          expect(Date.now() - started, `${c.name} was not closed in time`).toBeLessThan(10_000);
        }
      }),
    );
    // the broker is fine: a good SCRAM login and a request
    const good = await RawClient.connect(b.saslPort);
    await handshake(good, 'SCRAM-SHA-256');
    await scramClient(SCRAM_SHA_256, 'carol', SECRET, async (t) => (await good.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 1, { authBytes: t })).authBytes);
    expect((await good.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [] })).brokers).toHaveLength(1);
    good.close();
    const logs = b.logs.join('');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(Buffer.from(`alice:${SECRET}`).toString('base64'));
    expect(b.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'failure')).toBeGreaterThan(CASES / 8);
  }, 300_000);
});
