/**
 * What a handler is: one module per API key, declaring the versions it
 * serves and handling one decoded request at a time. The list in
 * handlers/index.ts registers them all and answers ApiVersions.
 *
 * A handler sees the broker through its request context only: the narrow
 * services (services.ts), the connection's session (who asks, on which
 * listener), the connection (response hooks, detach, close) and the header.
 */
import type { ApiDef, MessageDef, MessageInput, MessageValue, RequestHeader } from '../../protocol/index.js';
import type { ConnectionInfo } from '../connection-info.js';
import type { BrokerServices } from '../services.js';
import type { Session } from '../session.js';

export interface RequestContext {
  readonly services: BrokerServices;
  readonly session: Session;
  readonly connection: ConnectionInfo;
  readonly header: RequestHeader;
  readonly version: number;
}

export interface Handler<Req extends MessageDef = MessageDef, Res extends MessageDef = MessageDef> {
  readonly api: ApiDef;
  readonly request: Req;
  readonly response: Res;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Returns the response body, or undefined when no response is sent (Produce with acks=0). */
  handle(ctx: RequestContext, request: MessageValue<Req>): Promise<MessageInput<Res> | undefined> | MessageInput<Res> | undefined;
}

/** Declares a handler; the versions default to every version Kafka 3.9.0 has for the API. */
export function defineHandler<Req extends MessageDef, Res extends MessageDef>(h: {
  api: ApiDef;
  request: Req;
  response: Res;
  minVersion?: number;
  maxVersion?: number;
  handle: Handler<Req, Res>['handle'];
}): Handler {
  return {
    ...h,
    minVersion: h.minVersion ?? h.api.minVersion,
    maxVersion: h.maxVersion ?? h.api.maxVersion,
  } as unknown as Handler;
}
