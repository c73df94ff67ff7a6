import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  APIS,
  apiByKey,
  decode,
  decodeRequestFrame,
  decodeResponseFrame,
  encode,
  encodedSize,
  encodeRequestFrame,
  encodeResponseFrame,
  isFlexible,
  requestHeaderVersion,
  responseHeaderVersion,
  type MessageDef,
} from '../../protocol/index.js';
import { generateMessage, taggedFieldCount, type Mode } from './protocol-values.js';

interface FixtureApi {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  flexibleFrom: number | null;
  requestHeaderVersions: number[];
  responseHeaderVersions: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/api-versions.json', import.meta.url), 'utf8')) as { apis: FixtureApi[] };

const MODES: readonly Mode[] = ['full', 'empty', 'extreme', 'random', 'random', 'random'];
const covered = new Set<string>();

function roundTrip(def: MessageDef, version: number, value: Record<string, unknown>): void {
  const bytes = encode(def, version, value);
  expect(encodedSize(def, version, value)).toBe(bytes.length);
  const decoded = decode(def, version, bytes);
  expect(decoded).toStrictEqual(value);
  expect(encode(def, version, decoded).equals(bytes)).toBe(true);
}

describe('API table', () => {
  it('has exactly the 60 APIs of the fixture (Kafka 3.9.0\'s, with Kafka 4.3\'s newer versions and APIs where Gregor serves them, and its share-group APIs) with their valid version ranges', () => {
    expect([...APIS.keys()].sort((a, b) => a - b)).toEqual(fixture.apis.map((a) => a.key));
    for (const f of fixture.apis) {
      const api = apiByKey(f.key)!;
      expect({ name: api.name, min: api.minVersion, max: api.maxVersion }).toEqual({ name: f.name, min: f.minVersion, max: f.maxVersion });
      expect(api.request.apiKey).toBe(f.key);
      expect(api.response.apiKey).toBe(f.key);
      expect(api.response.valid).toBe(api.request.valid);
    }
  });

  it('marks exactly the fixture flexible versions as flexible, for request and response', () => {
    for (const f of fixture.apis) {
      const api = apiByKey(f.key)!;
      for (let v = f.minVersion; v <= f.maxVersion; v++) {
        const flexible = f.flexibleFrom !== null && v >= f.flexibleFrom;
        expect(isFlexible(api.request, v), `${f.name} v${v} request`).toBe(flexible);
        expect(isFlexible(api.response, v), `${f.name} v${v} response`).toBe(flexible);
      }
    }
  });

  it('chooses the request and response header version of every API version as Kafka does (ApiVersions responses always v0)', () => {
    let checked = 0;
    for (const f of fixture.apis) {
      const api = apiByKey(f.key)!;
      for (let v = f.minVersion; v <= f.maxVersion; v++) {
        expect(requestHeaderVersion(api, v), `${f.name} v${v} request header`).toBe(f.requestHeaderVersions[v - f.minVersion]);
        expect(responseHeaderVersion(api, v), `${f.name} v${v} response header`).toBe(f.responseHeaderVersions[v - f.minVersion]);
        checked++;
      }
    }
    expect(checked).toBe(264);
    const apiVersions = apiByKey(18)!;
    for (let v = 0; v <= 4; v++) expect(responseHeaderVersion(apiVersions, v)).toBe(0);
  });
});

describe('round trip of every (API, version) pair', () => {
  for (const f of fixture.apis) {
    it(`${f.name} (key ${f.key}) v${f.minVersion}-v${f.maxVersion}: encode → decode → deep-equal and re-encode byte-identical`, () => {
      const api = apiByKey(f.key)!;
      for (let v = f.minVersion; v <= f.maxVersion; v++) {
        for (const def of [api.request, api.response]) {
          MODES.forEach((mode, i) => {
            const value = generateMessage(def, v, mode, f.key * 1000 + v * 10 + i);
            try {
              roundTrip(def, v, value);
            } catch (err) {
              throw new Error(`${def.name} v${v} mode ${mode}: ${(err as Error).message}`, { cause: err });
            }
          });
          // In 'full' mode every tagged field is non-default, so it must appear on the wire.
          const tagged = taggedFieldCount(def, v);
          if (tagged > 0) {
            const full = encode(def, v, generateMessage(def, v, 'full', 7));
            const empty = encode(def, v, generateMessage(def, v, 'empty', 7));
            expect(full.length).toBeGreaterThan(empty.length);
          }
        }
        covered.add(`${f.key}:${v}`);
      }
    });
  }

  it('covered every (API, version) pair of the fixture', () => {
    const missing: string[] = [];
    let total = 0;
    for (const f of fixture.apis) {
      for (let v = f.minVersion; v <= f.maxVersion; v++) {
        total++;
        if (!covered.has(`${f.key}:${v}`)) missing.push(`${f.name} v${v}`);
      }
    }
    console.log(`protocol round trip: covered ${covered.size} of ${total} (API, version) pairs, request and response, ${MODES.length} values each`);
    expect(missing).toEqual([]);
    expect(covered.size).toBe(total);
  });
});

describe('frames', () => {
  it('round-trips request frames of every API version with header v1/v2 and a client id', () => {
    for (const f of fixture.apis) {
      const api = apiByKey(f.key)!;
      for (let v = f.minVersion; v <= f.maxVersion; v++) {
        const body = generateMessage(api.request, v, 'random', v + 1);
        for (const clientId of ['client-ü', null, '']) {
          const frame = Buffer.concat(encodeRequestFrame(api.request, v, 0x7fff0000 + v, clientId, body));
          expect(frame.readInt32BE(0)).toBe(frame.length - 4);
          expect(frame.readInt16BE(4)).toBe(f.key);
          expect(frame.readInt16BE(6)).toBe(v);
          const decoded = decodeRequestFrame(frame.subarray(4));
          expect(decoded.apiKey).toBe(f.key);
          expect(decoded.apiVersion).toBe(v);
          expect(decoded.correlationId).toBe(0x7fff0000 + v);
          expect(decoded.clientId).toBe(clientId);
          expect(decoded.body).toStrictEqual(body);
          // header v2 = v1 + an empty tagged section right after the int16-length client id
          const clientIdEnd = 4 + 10 + (clientId === null ? 0 : Buffer.byteLength(clientId));
          const headerLength = f.requestHeaderVersions[v - f.minVersion] === 2 ? clientIdEnd + 1 : clientIdEnd;
          if (f.requestHeaderVersions[v - f.minVersion] === 2) expect(frame[clientIdEnd]).toBe(0);
          expect(frame.subarray(headerLength).equals(encode(api.request, v, body))).toBe(true);
        }
      }
    }
  });

  it('round-trips response frames of every API version with header v0/v1', () => {
    for (const f of fixture.apis) {
      const api = apiByKey(f.key)!;
      for (let v = f.minVersion; v <= f.maxVersion; v++) {
        const body = generateMessage(api.response, v, 'random', v + 2);
        const frame = Buffer.concat(encodeResponseFrame(api.response, v, -5, body));
        expect(frame.readInt32BE(0)).toBe(frame.length - 4);
        expect(frame.readInt32BE(4)).toBe(-5);
        const headerLength = f.responseHeaderVersions[v - f.minVersion] === 1 ? 9 : 8;
        if (headerLength === 9) expect(frame[8]).toBe(0);
        expect(frame.subarray(headerLength).equals(encode(api.response, v, body))).toBe(true);
        const decoded = decodeResponseFrame(api.response, v, frame.subarray(4));
        expect(decoded.correlationId).toBe(-5);
        expect(decoded.body).toStrictEqual(body);
      }
    }
  });

  it('skips unknown tagged fields in a request header v2', () => {
    const api = apiByKey(3)!;
    const body = generateMessage(api.request, 12, 'full', 1);
    const frame = Buffer.concat(encodeRequestFrame(api.request, 12, 9, 'c', body)).subarray(4);
    // header: key(2) version(2) correlation(4) clientId(2+1) tagged(1)
    const withTag = Buffer.concat([frame.subarray(0, 11), Buffer.from([1, 7, 2, 0xaa, 0xbb]), frame.subarray(12)]);
    const decoded = decodeRequestFrame(withTag);
    expect(decoded.correlationId).toBe(9);
    expect(decoded.body).toStrictEqual(body);
  });
});

describe('tagged fields', () => {
  it('skips unknown tags in a body and in nested structs, keeping known ones', () => {
    const def = apiByKey(18)!.response;
    const value = generateMessage(def, 3, 'empty', 1);
    value.apiKeys = [{ apiKey: 0, minVersion: 0, maxVersion: 11 }];
    const bytes = encode(def, 3, value);
    // body: errorCode(2) apiKeys(compact len 1 + 6 + tagged 1) throttle(4) tagged(1)
    expect(bytes.length).toBe(2 + 1 + 7 + 4 + 1);
    const unknownInElement = Buffer.concat([bytes.subarray(0, 9), Buffer.from([1, 42, 3, 1, 2, 3]), bytes.subarray(10)]);
    const withFeatures = encode(def, 3, { ...value, zkMigrationReady: true });
    // append unknown tag 9 after known tag 3 in the top-level section
    const top = withFeatures.subarray(0, withFeatures.length - 3);
    expect([...withFeatures.subarray(withFeatures.length - 4)]).toEqual([1, 3, 1, 1]);
    const withUnknownTop = Buffer.concat([top.subarray(0, top.length - 1), Buffer.from([2, 3, 1, 1, 9, 2, 0xff, 0xff])]);
    expect(decode(def, 3, unknownInElement)).toStrictEqual(value);
    expect(decode(def, 3, withUnknownTop)).toStrictEqual({ ...value, zkMigrationReady: true });
  });

  it('omits tagged fields equal to their default and writes present ones in ascending tag order', () => {
    const def = apiByKey(18)!.response;
    const base = { errorCode: 0, apiKeys: [], throttleTimeMs: 0 };
    expect([...encode(def, 3, { ...base, finalizedFeaturesEpoch: -1n, zkMigrationReady: false })]).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
    const bytes = encode(def, 3, { ...base, zkMigrationReady: true, finalizedFeaturesEpoch: 5n });
    // count 2; tag 1 size 8 int64 5; tag 3 size 1 true
    expect([...bytes.subarray(7)]).toEqual([2, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5, 3, 1, 1]);
  });
});
