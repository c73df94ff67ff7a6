/**
 * dispatch(): request frames in, decisions out — no socket. Frames are built with the protocol's own
 * encoder (or by hand when they must be wrong); the services are those of a real broker, so a normal
 * request is handled as a connection would have it handled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, apiByKey, decodeResponseFrame, encodeRequestFrame, ErrorCode, schemas, type MessageDef, type MessageInput } from '../../protocol/index.js';
import type { ConnectionInfo } from '../../src/connection-info.js';
import { dispatch, type Dispatched, type DispatchTarget } from '../../src/dispatch.js';
import { supportedApis } from '../../src/handlers/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { Session, type SecurityProtocol } from '../../src/session.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.close();
});

/** A target as a fresh connection on a listener of `protocol` gives it; `closed` records what the handler closed. */
function target(protocol: SecurityProtocol = 'PLAINTEXT'): DispatchTarget & { closed: string[] } {
  const closed: string[] = [];
  const connection: ConnectionInfo = {
    id: 1,
    remoteAddress: '127.0.0.1',
    remotePort: 50000,
    close: (reason) => closed.push(reason),
    closeAfterResponse: (reason) => closed.push(reason),
    afterResponse: (done) => done(),
    detach: () => undefined,
    whenClosed: () => undefined,
  };
  const session = new Session({ name: protocol, securityProtocol: protocol });
  return { services: broker.broker.services, session, connection, log: broker.broker.logger, closed };
}

/** A request frame as it arrives on a connection, without its size prefix. */
function frameOf<M extends MessageDef>(def: M, version: number, correlationId: number, body: MessageInput<M>): Buffer {
  return Buffer.concat(encodeRequestFrame(def, version, correlationId, 'dispatch-test', body)).subarray(4);
}

/** A request header v1 (api key, version, correlation id, client id "t") followed by `body`. */
function rawFrame(apiKey: number, apiVersion: number, correlationId: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(11);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(1, 8);
  header.write('t', 10);
  return Buffer.concat([header, body]);
}

/** The response frame of a 'respond' decision, without its size prefix (checked against it). */
function responseOf(out: Dispatched): Buffer {
  if (out.kind !== 'respond') throw new Error(`expected a response, got ${JSON.stringify(out)}`);
  const frame = Buffer.concat(out.chunks);
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  return frame.subarray(4);
}

describe('dispatch', () => {
  it('closes on a frame shorter than a request header', async () => {
    expect(await dispatch(Buffer.from([0, 3, 0]), performance.now(), target())).toEqual({ kind: 'close', reason: 'request shorter than a header' });
  });

  it('closes on an unknown API key, and on a version of a known API outside our range', async () => {
    expect(await dispatch(rawFrame(9999, 0, 1), performance.now(), target())).toEqual({ kind: 'close', reason: 'unsupported api or version' });
    expect(await dispatch(rawFrame(ApiKey.Metadata, 99, 2), performance.now(), target())).toEqual({ kind: 'close', reason: 'unsupported api or version' });
    expect(await dispatch(rawFrame(ApiKey.Fetch, -1, 3), performance.now(), target())).toEqual({ kind: 'close', reason: 'unsupported api or version' });
  });

  it('serves ShareGroupHeartbeat/ShareGroupDescribe v1, ShareFetch/ShareAcknowledge v1-2, DescribeShareGroupOffsets v0-1 and Alter/DeleteShareGroupOffsets v0 (KIP-932) and lists them; closes on the share-group APIs whose wire format the codec knows but no handler serves (the inter-broker share state APIs), and ApiVersions lists none of those', async () => {
    const served = [ApiKey.ShareGroupHeartbeat, ApiKey.ShareGroupDescribe];
    const unserved = [
      ApiKey.InitializeShareGroupState, ApiKey.ReadShareGroupState, ApiKey.WriteShareGroupState, ApiKey.DeleteShareGroupState,
      ApiKey.ReadShareGroupStateSummary,
    ];
    for (const key of [...served, ...unserved]) expect(apiByKey(key), `codec knows ${key}`).toBeDefined();
    expect(await dispatch(rawFrame(ApiKey.DeleteShareGroupState, 0, 5, Buffer.alloc(0)), performance.now(), target())).toEqual({ kind: 'close', reason: 'unsupported api or version' });
    const listed = supportedApis().map((a) => a.apiKey);
    expect(listed.filter((key) => (unserved as number[]).includes(key))).toEqual([]);
    // ShareFetch and ShareAcknowledge are served, v1-2 (Kafka 4.3's)
    for (const key of [ApiKey.ShareFetch, ApiKey.ShareAcknowledge]) {
      expect(supportedApis().find((a) => a.apiKey === key)).toMatchObject({ minVersion: 1, maxVersion: 2 });
    }
    expect(supportedApis().find((a) => a.apiKey === ApiKey.DescribeShareGroupOffsets)).toMatchObject({ minVersion: 0, maxVersion: 1 });
    for (const key of [ApiKey.AlterShareGroupOffsets, ApiKey.DeleteShareGroupOffsets]) {
      expect(supportedApis().find((a) => a.apiKey === key)).toMatchObject({ minVersion: 0, maxVersion: 0 });
    }
    const frame = responseOf(await dispatch(frameOf(schemas.apiVersionsRequest, 3, 6, { clientSoftwareName: 't', clientSoftwareVersion: '1' }), performance.now(), target()));
    const res = decodeResponseFrame(schemas.apiVersionsResponse, 3, frame);
    expect(res.body.apiKeys.map((k) => k.apiKey)).toEqual(listed);
    for (const key of served) expect(res.body.apiKeys.find((k) => k.apiKey === key)).toEqual({ apiKey: key, minVersion: 1, maxVersion: 1 });
  });

  it('answers ApiVersions above our range with a v0 body: UNSUPPORTED_VERSION and our ApiVersions range (KIP-511)', async () => {
    const frame = responseOf(await dispatch(rawFrame(ApiKey.ApiVersions, 99, 77, Buffer.from([0xde, 0xad])), performance.now(), target()));
    const res = decodeResponseFrame(schemas.apiVersionsResponse, 0, frame);
    expect(res.correlationId).toBe(77);
    expect(res.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(res.body.apiKeys).toEqual([{ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 4 }]);
  });

  it('closes on a malformed body', async () => {
    // Metadata v1: a topic array of length 5 and no topics after it
    const body = Buffer.from([0, 0, 0, 5]);
    expect(await dispatch(rawFrame(ApiKey.Metadata, 1, 4, body), performance.now(), target())).toEqual({ kind: 'close', reason: 'malformed request' });
  });

  it('answers a request with its correlation id, and records the client in the session', async () => {
    const to = target();
    const frame = frameOf(schemas.apiVersionsRequest, 3, 41, { clientSoftwareName: 'dispatch-test', clientSoftwareVersion: '1.0' });
    const res = decodeResponseFrame(schemas.apiVersionsResponse, 3, responseOf(await dispatch(frame, performance.now(), to)));
    expect(res.correlationId).toBe(41);
    expect(res.body.errorCode).toBe(ErrorCode.NONE);
    expect(res.body.apiKeys.find((k) => k.apiKey === ApiKey.Fetch)).toEqual({ apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 18 });
    expect([to.session.clientId, to.session.clientSoftwareName, to.session.clientSoftwareVersion]).toEqual(['dispatch-test', 'dispatch-test', '1.0']);
    expect(to.closed).toEqual([]);
  });

  it('writes response header v1 (tagged fields) for flexible versions and v0 before; ApiVersions always v0', async () => {
    const flexible = responseOf(await dispatch(frameOf(schemas.metadataRequest, 12, 5, { topics: [], allowAutoTopicCreation: false }), performance.now(), target()));
    // header v1: correlation id, then an empty tagged-field section (one 0 byte) before the body
    expect(flexible.readInt32BE(0)).toBe(5);
    expect(flexible[4]).toBe(0);
    expect(decodeResponseFrame(schemas.metadataResponse, 12, flexible).body.brokers[0]!.nodeId).toBe(broker.broker.nodeId);
    const legacy = responseOf(await dispatch(frameOf(schemas.metadataRequest, 1, 6, { topics: [] }), performance.now(), target()));
    expect(decodeResponseFrame(schemas.metadataResponse, 1, legacy)).toMatchObject({ correlationId: 6, body: { controllerId: broker.broker.nodeId } });
    // ApiVersions v3 is flexible, yet its response header stays v0: the body starts right after the correlation id
    const versions = responseOf(await dispatch(frameOf(schemas.apiVersionsRequest, 3, 7, { clientSoftwareName: 'a', clientSoftwareVersion: '1' }), performance.now(), target()));
    expect(versions.readInt16BE(4)).toBe(ErrorCode.NONE);
  });

  it('serves a connection still authenticating only what authentication needs', async () => {
    const to = target('SASL_PLAINTEXT');
    expect(to.session.state).toBe('authenticating');
    const metadata = frameOf(schemas.metadataRequest, 12, 8, { topics: [], allowAutoTopicCreation: false });
    expect(await dispatch(metadata, performance.now(), to)).toEqual({ kind: 'close', reason: 'request not allowed in this connection state' });
    const versions = frameOf(schemas.apiVersionsRequest, 3, 9, { clientSoftwareName: 'a', clientSoftwareVersion: '1' });
    expect((await dispatch(versions, performance.now(), to)).kind).toBe('respond');
    to.session.authenticated({ principalType: 'User', name: 'alice' });
    expect((await dispatch(metadata, performance.now(), to)).kind).toBe('respond');
  });

  it('writes nothing once the connection is closing', async () => {
    const to = target();
    to.session.close();
    expect(await dispatch(frameOf(schemas.metadataRequest, 12, 10, { topics: [], allowAutoTopicCreation: false }), performance.now(), to)).toEqual({
      kind: 'close',
      reason: 'request not allowed in this connection state',
    });
  });
});

describe('session', () => {
  it('starts a PLAINTEXT connection ready, as ANONYMOUS, and only moves forward', () => {
    const s = new Session({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' });
    expect([s.state, s.principal, s.listenerName, s.securityProtocol]).toEqual(['ready', { principalType: 'User', name: 'ANONYMOUS' }, 'PLAINTEXT', 'PLAINTEXT']);
    expect(() => s.authenticated({ principalType: 'User', name: 'alice' })).toThrow(/ready cannot become ready/);
    s.close();
    s.close();
    expect(s.state).toBe('closing');
    expect(s.serves(ApiKey.ApiVersions)).toBe(false);
  });
});
