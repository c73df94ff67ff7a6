/**
 * From a request frame to what the connection does next: write a response,
 * write nothing, or close. No socket here (connection.ts owns bytes, order
 * and back-pressure), so every step can be driven with frames alone:
 *
 * 0. After SaslHandshake v0 the frames of the SASL exchange are raw tokens,
 *    without a Kafka header: the session's exchange answers each with a raw
 *    token (size-prefixed), or closes.
 * 1. Peek the header. Shorter than a header: close.
 * 2. Version gate, against the handler list (handlers/index.ts). ApiVersions
 *    above our range is answered, as KIP-511 asks, with a v0 body carrying
 *    UNSUPPORTED_VERSION and our ApiVersions range, so the client retries
 *    lower; any other unknown API key or version: close, before anything is
 *    allocated for the request.
 * 3. Session gate (session.ts admit()): a connection still authenticating
 *    is served only what its SASL exchange expects next, a re-authenticating
 *    one only SaslAuthenticate, and one whose authentication has expired
 *    (KIP-368) only the SaslHandshake that re-authenticates it; anything
 *    else: close.
 * 4. The handler, loaded at its API's first request if it is a rare one.
 * 5. Decode header and body. Malformed (ProtocolError): close.
 * 6. Handle, with the request context: the broker's services, the session,
 *    the connection's handle for handlers, the header. A handler that
 *    throws: close. No response (Produce acks=0), or a connection closed
 *    meanwhile: nothing to write.
 * 7. Client quotas (security/quota/client-quotas.ts), for a connection that
 *    was authenticated when the request came (Kafka handles the requests of
 *    SASL authentication outside its quotas): the request is recorded against
 *    its client's quotas — its size (Produce), its event-loop time from step 5
 *    until the handler answered or first waited, and the throttle time a
 *    handler decided itself (Fetch) — and a throttle time goes into the
 *    response's throttle_time_ms (where its version has one) and back to the
 *    connection, which mutes itself for it (also when there is no response).
 * 8. Encode the response frame (header v0 or v1 by API and version).
 *
 * Metrics hooks: requestHandled once handled (with the response, whose error
 * codes are counted), responseSent when the connection has written it.
 * Failures other than these decisions (a bug in decoding, a handler module
 * that fails to load) propagate: the connection logs them and closes.
 */
import { ApiKey, apiByKey, decodeFrom, encodeResponseFrame, ErrorCode, peekRequestHeader, ProtocolError, Reader, readRequestHeader, schemas, type FrameChunk } from '../protocol/index.js';
import type { ConnectionInfo } from './connection-info.js';
import { handlerFor, loadHandler, versionsFor } from './handlers/index.js';
import type { Logger } from './logger.js';
import { throttleTimeOf, withThrottleTime } from './security/quota/client-quotas.js';
import type { BrokerServices } from './services.js';
import type { Session } from './session.js';

/** What a connection gives the dispatch: the same for each of its requests. */
export interface DispatchTarget {
  readonly services: BrokerServices;
  readonly session: Session;
  readonly connection: ConnectionInfo;
  /** The connection's logger. */
  readonly log: Logger;
}

/** What to do with a frame. */
export type Dispatched =
  | {
      readonly kind: 'respond';
      /**
       * The response frame, size prefix included, as chunks (record sections are never copied; those still in
       * segment files are lazy chunks the connection reads as it writes them).
       */
      readonly chunks: FrameChunk[];
      /** To call once the kernel has taken all of it (metrics), if anything needs to know. */
      readonly onSent: (() => void) | undefined;
      /** A client quota's throttle time: the connection is muted for it (absent or 0: not throttled). */
      readonly throttleMs?: number;
    }
  | { readonly kind: 'none'; readonly throttleMs?: number }
  | { readonly kind: 'close'; readonly reason: string };

const NONE: Dispatched = { kind: 'none' };

function close(reason: string): Dispatched {
  return { kind: 'close', reason };
}

/** Handles one request frame (without its size prefix) that arrived at `arrivedAt` (performance.now()). */
export async function dispatch(frame: Buffer, arrivedAt: number, to: DispatchTarget): Promise<Dispatched> {
  const { services, session, log } = to;
  const metrics = services.metrics;
  const dequeuedAt = metrics ? performance.now() : 0;
  if (session.sasl?.rawTokens) return rawSaslToken(frame, to);
  let peek;
  try {
    peek = peekRequestHeader(frame);
  } catch {
    return close('request shorter than a header');
  }
  const versions = versionsFor(peek.apiKey);
  if (peek.apiKey === ApiKey.ApiVersions && versions && peek.apiVersion > versions.maxVersion) {
    // KIP-511: answer with a v0 body listing only our ApiVersions range, so the client downgrades.
    return {
      kind: 'respond',
      chunks: encodeResponseFrame(schemas.apiVersionsResponse, 0, peek.correlationId, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: versions.minVersion, maxVersion: versions.maxVersion }],
      }),
      onSent: undefined,
    };
  }
  if (!versions || peek.apiVersion < versions.minVersion || peek.apiVersion > versions.maxVersion) {
    const name = apiByKey(peek.apiKey)?.name ?? `unknown api key ${peek.apiKey}`;
    log.info({ apiKey: peek.apiKey, apiVersion: peek.apiVersion }, `unsupported request ${name} v${peek.apiVersion}; closing connection`);
    return close('unsupported api or version');
  }
  if (!session.admit(peek.apiKey, performance.now())) {
    if (session.state === 'ready') {
      log.debug({ apiKey: peek.apiKey }, 'SASL session expired (connections.max.reauth.ms); closing connection');
      return close('authentication session expired');
    }
    log.info({ apiKey: peek.apiKey, state: session.state }, 'request not allowed in this connection state; closing connection');
    return close('request not allowed in this connection state');
  }
  // a rarely used API's handler is loaded at its first request (handlers/index.ts)
  const handler = handlerFor(peek.apiKey) ?? (await loadHandler(peek.apiKey))!;
  const quotas = services.quotas;
  const quotaExempt = session.state !== 'ready';
  // request time (step 7): from here until the handler answers, or until the event loop turns first
  const timed = !quotaExempt && quotas.measuresRequestTime;
  const timedFrom = timed ? performance.now() : 0;
  let firstWaitAt: number | undefined;
  const waitWatch = timed ? setImmediate(() => (firstWaitAt = performance.now())) : undefined;
  let header;
  let body;
  try {
    const r = new Reader(frame);
    header = readRequestHeader(r);
    body = decodeFrom(handler.request, peek.apiVersion, r);
  } catch (err) {
    clearImmediate(waitWatch);
    if (err instanceof ProtocolError) {
      log.info({ apiKey: peek.apiKey, apiVersion: peek.apiVersion, err: err.message }, 'malformed request; closing connection');
      return close('malformed request');
    }
    throw err;
  }
  session.clientId = header.clientId;
  let response;
  try {
    response = await handler.handle({ services, session, connection: to.connection, header, version: peek.apiVersion }, body);
  } catch (err) {
    clearImmediate(waitWatch);
    log.error({ err, api: handler.api.name, apiVersion: peek.apiVersion }, 'request handler failed; closing connection');
    return close('handler failure');
  }
  clearImmediate(waitWatch);
  const throttleMs = quotaExempt
    ? 0
    : quotas.recordRequest({
        apiKey: peek.apiKey,
        client: session,
        requestBytes: frame.length,
        busyMs: timed ? (firstWaitAt ?? performance.now()) - timedFrom : 0,
        responded: response !== undefined,
        handlerThrottleMs: throttleTimeOf(response),
      });
  if (response === undefined) {
    metrics?.requestHandled(handler.api, peek.apiVersion, (dequeuedAt - arrivedAt) / 1000, (performance.now() - dequeuedAt) / 1000, undefined);
  }
  if (response === undefined || session.state === 'closing') return throttleMs > 0 ? { kind: 'none', throttleMs } : NONE;
  if (throttleMs > 0) response = withThrottleTime(response, handler.response, peek.apiVersion, throttleMs);
  let chunks;
  try {
    chunks = encodeResponseFrame(handler.response, peek.apiVersion, peek.correlationId, response);
  } catch (err) {
    log.error({ err, api: handler.api.name, apiVersion: peek.apiVersion }, 'response cannot be encoded; closing connection');
    return close('response encoding failure');
  }
  if (!metrics) return { kind: 'respond', chunks, onSent: undefined, throttleMs };
  const encodedAt = performance.now();
  metrics.requestHandled(handler.api, peek.apiVersion, (dequeuedAt - arrivedAt) / 1000, (encodedAt - dequeuedAt) / 1000, response);
  return {
    kind: 'respond',
    chunks,
    throttleMs,
    onSent: () => {
      const sentAt = performance.now();
      metrics.responseSent(handler.api, (sentAt - encodedAt) / 1000, (sentAt - arrivedAt) / 1000);
    },
  };
}

/** A raw SASL token (SaslHandshake v0's exchange): answered with the exchange's token, size-prefixed, or closed. */
async function rawSaslToken(frame: Buffer, to: DispatchTarget): Promise<Dispatched> {
  const step = await to.session.sasl!.rawToken(frame);
  if (step.answer === undefined) return close('SASL authentication failed');
  if (step.close) to.connection.closeAfterResponse('SASL authentication failed');
  const size = Buffer.alloc(4);
  size.writeInt32BE(step.answer.length, 0);
  return { kind: 'respond', chunks: [size, step.answer], onSent: undefined };
}
