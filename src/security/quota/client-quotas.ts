/**
 * Client quotas: what is set (DescribeClientQuotas / AlterClientQuotas), kept
 * durably and applied live, and what every request is measured against —
 * Kafka's QuotaFactory.QuotaManagers with the broker's ClientQuotaMetadataManager.
 *
 * Set: AlterClientQuotas is checked as Kafka's controller checks it
 * (client-quota-control.ts), one alteration at a time; the entities that
 * passed are stored in the broker's metadata store (one durable write for the
 * request), then applied: a changed key of a user / client-id entity updates
 * the quota of its kind (producer_byte_rate → produce bytes, consumer_byte_rate
 * → fetch bytes, request_percentage → request time), connection_creation_rate
 * of an ip entity the connection quotas. controller_mutation_rate is checked,
 * stored and described but not enforced (CreateTopics, CreatePartitions and
 * DeleteTopics are never throttled). validate_only stops before the write.
 * At start the stored quotas are applied before the first connection.
 *
 * Measured, per request (recordRequest, called by dispatch.ts for every
 * request of an authenticated connection, after its handler and before its
 * response is encoded), as KafkaApis does:
 * - Produce: the request's size against producer_byte_rate (recorded even
 *   when it goes over, the records appended);
 * - Fetch: its response's record bytes against consumer_byte_rate, by the
 *   fetch manager before it answers (fetchQuota): a fetch over the quota is
 *   answered empty with the throttle time and its bytes do not count; the
 *   most it may return is capped at what the quota window allows;
 * - every request but a Produce with acks=0: its event-loop time against
 *   request_percentage (100% = one thread busy all the time; Kafka measures
 *   its I/O thread's time, Gregor the time from the decoding of the request
 *   until its handler answers or first waits for I/O, a timer or a long poll,
 *   whichever comes first — what the handler does after such a wait is not
 *   counted, and work of other connections in the same event-loop turn may
 *   be; throttles at most one quota window).
 * The throttle time is the largest of these; it goes in the response's
 * throttle_time_ms (where the version has one) and the connection is muted
 * for it (KIP-219: no further request is read or handled until it has passed;
 * the response leaves at once).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ApiKey, ErrorCode, inRange, parseVersions, type MessageDef } from '../../../protocol/index.js';
import type { Logger } from '../../logger.js';
import { planQuotaAlterations, type QuotaAlteration, type QuotaAlterationResult } from './client-quota-control.js';
import { CLIENT_ID, CONNECTION_CREATION_RATE, CONSUMER_BYTE_RATE, entityToString, IP, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE, USER, type QuotaEntity } from './client-quota-entity.js';
import { ClientQuotaManager } from './client-quota-manager.js';
import { ClientQuotasImage, type ClientQuotaEntry, type QuotaFilterComponent } from './client-quotas-image.js';
import { ConnectionRates } from './connection-rates.js';
import type { RateWindow } from './quota-rate.js';

/** A client quota entity and its values as the metadata store keeps them (entity type → name, null: the default). */
export interface StoredClientQuota {
  readonly entity: Readonly<Record<string, string | null>>;
  readonly values: Readonly<Record<string, number>>;
}

export interface ClientQuotasDeps {
  /** quota.window.num and quota.window.size.seconds. */
  readonly window: RateWindow;
  /** max.connection.creation.rate, read at each new connection. */
  readonly maxConnectionCreationRate: () => number;
  /** Stores changed entities (empty values: removed) in one durable write. */
  readonly store: (changes: readonly StoredClientQuota[]) => Promise<void>;
  readonly logger: Logger;
  /** The address a host name resolves to (an ip entity named by host), undefined when it does not. */
  readonly resolveHost?: (host: string) => Promise<string | undefined>;
}

/** Who sent a request, as quotas name it. */
export interface QuotaClient {
  readonly principal: { readonly name: string };
  readonly clientId: string | null;
}

/** One request, as recordRequest measures it. */
export interface RequestUsage {
  readonly apiKey: number;
  readonly client: QuotaClient;
  /** Size of the request, without its size prefix. */
  readonly requestBytes: number;
  /** Event-loop time of the request in ms (see the top of this file); 0 when request time is not measured. */
  readonly busyMs: number;
  /** False for a request answered with nothing (Produce with acks=0): its time is not enforced. */
  readonly responded: boolean;
  /** Throttle time the handler's own quota decided (a Fetch over consumer_byte_rate), 0 when none. */
  readonly handlerThrottleMs: number;
}

/** The consumer byte rate of one Fetch, for the fetch manager. */
export interface FetchQuota {
  /** The most bytes the fetch may return without being throttled for sure. */
  readonly maxBytes: number;
  /** Records the response's bytes: 0 when within the quota, else the throttle time (the bytes then do not count). */
  record(bytes: number): number;
}

/** What the metrics read. */
export interface QuotaMetricsSource {
  readonly managers: readonly ClientQuotaManager[];
  readonly connections: ConnectionRates;
}

/** Request time in percent of one thread for `ms` of it (ClientRequestQuotaManager.nanosToPercentage). */
const PERCENT_PER_MS = 100 / 1000;
const INT32_MAX = 2147483647;

export class ClientQuotas {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;
  readonly connections: ConnectionRates;
  private readonly image = new ClientQuotasImage();
  /** Alterations run one at a time. */
  private alterations: Promise<unknown> = Promise.resolve();
  private readonly resolveHost: (host: string) => Promise<string | undefined>;

  constructor(private readonly deps: ClientQuotasDeps) {
    const window = deps.window;
    this.produce = new ClientQuotaManager('produce', window);
    this.fetch = new ClientQuotaManager('fetch', window);
    this.request = new ClientQuotaManager('request', window, window.windowMs);
    this.connections = new ConnectionRates(window, deps.maxConnectionCreationRate);
    this.resolveHost = deps.resolveHost ?? defaultResolveHost;
  }

  /** Applies the stored quotas (at start, before the first connection). */
  load(stored: readonly StoredClientQuota[]): void {
    for (const s of stored) {
      const entity: QuotaEntity = new Map(Object.entries(s.entity));
      const values = new Map(Object.entries(s.values));
      this.apply(entity, new Map(), values);
      this.image.set(entity, values);
    }
  }

  /** DescribeClientQuotas: the entities the filter matches; throws a KafkaError for a filter Kafka refuses. */
  describe(components: readonly QuotaFilterComponent[], strict: boolean): ClientQuotaEntry[] {
    return this.image.describe(components, strict);
  }

  /**
   * AlterClientQuotas: one result per distinct entity; the entities that passed are stored and applied
   * (unless validateOnly). A failed write answers every entity that passed with KAFKA_STORAGE_ERROR.
   */
  alter(alterations: readonly QuotaAlteration[], validateOnly: boolean): Promise<QuotaAlterationResult[]> {
    const run = async (): Promise<QuotaAlterationResult[]> => {
      const plan = await planQuotaAlterations(this.image, alterations, (host) => this.resolveHost(host).then((a) => a !== undefined));
      if (validateOnly || plan.changes.length === 0) return plan.results;
      try {
        await this.deps.store(plan.changes.map((c) => ({ entity: Object.fromEntries(c.entity), values: Object.fromEntries(c.values) })));
      } catch (err) {
        const message = `Storing the client quotas failed: ${(err as Error).message}`;
        return plan.results.map((r) => (r.errorCode === ErrorCode.NONE ? { ...r, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: message } : r));
      }
      for (const c of plan.changes) {
        const before = this.image.valuesOf(c.entity);
        this.apply(c.entity, before, c.values);
        this.image.set(c.entity, c.values);
        this.deps.logger.info({ entity: entityToString(c.entity), quotas: Object.fromEntries(c.values) }, 'altered client quotas');
      }
      return plan.results;
    };
    const next = this.alterations.then(run, run);
    this.alterations = next.catch(() => undefined);
    return next;
  }

  /** Whether requests' event-loop time is measured (a request_percentage quota was set since start). */
  get measuresRequestTime(): boolean {
    return this.request.quotasEnabled;
  }

  /** Records a request against its quotas (see the top of this file): its throttle time in ms, 0 when none. */
  recordRequest(u: RequestUsage): number {
    const produce = this.produce;
    const request = this.request;
    if (!produce.quotasEnabled && !request.quotasEnabled && u.handlerThrottleMs <= 0) return 0;
    const user = u.client.principal.name;
    const clientId = u.client.clientId ?? '';
    const now = Date.now();
    const bandwidthMs = u.apiKey === ApiKey.Produce ? produce.maybeRecordAndGetThrottleTimeMs(user, clientId, u.requestBytes, now) : 0;
    const requestMs = u.responded ? request.maybeRecordAndGetThrottleTimeMs(user, clientId, u.busyMs * PERCENT_PER_MS, now) : 0;
    const handlerMs = u.handlerThrottleMs;
    if (bandwidthMs > requestMs && bandwidthMs >= handlerMs) {
      produce.throttled(bandwidthMs);
      return bandwidthMs;
    }
    if (handlerMs > requestMs) {
      if (u.apiKey === ApiKey.Fetch) this.fetch.throttled(handlerMs);
      return handlerMs;
    }
    if (requestMs > 0) request.throttled(requestMs);
    return requestMs;
  }

  /** The consumer byte rate of a Fetch from this client, or undefined while no consumer_byte_rate was ever set. */
  fetchQuota(client: QuotaClient): FetchQuota | undefined {
    const fetch = this.fetch;
    if (!fetch.quotasEnabled) return undefined;
    const user = client.principal.name;
    const clientId = client.clientId ?? '';
    return {
      maxBytes: Math.min(INT32_MAX, Math.floor(fetch.maxValueInQuotaWindow(user, clientId, Date.now()))),
      record(bytes: number): number {
        const now = Date.now();
        const ms = fetch.maybeRecordAndGetThrottleTimeMs(user, clientId, bytes, now);
        // a throttled fetch is answered empty: its bytes do not count (Kafka's unrecordQuotaSensor)
        if (ms > 0) fetch.recordNoThrottle(user, clientId, -bytes, now);
        return ms;
      },
    };
  }

  /** What the metrics read. */
  get metrics(): QuotaMetricsSource {
    return { managers: [this.produce, this.fetch, this.request], connections: this.connections };
  }

  /**
   * Applies an entity's change from `before` to `after` (ClientQuotaMetadataManager): each changed key
   * updates the quota of its kind.
   */
  private apply(entity: QuotaEntity, before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): void {
    const keys = new Set([...before.keys(), ...after.keys()]);
    if (entity.has(IP)) {
      if (!keys.has(CONNECTION_CREATION_RATE) || before.get(CONNECTION_CREATION_RATE) === after.get(CONNECTION_CREATION_RATE)) return;
      const ip = entity.get(IP) ?? null;
      const rate = after.get(CONNECTION_CREATION_RATE);
      if (ip === null || isAddress(ip)) this.connections.updateIpQuota(ip, rate);
      else void this.applyHostQuota(ip, rate);
      return;
    }
    const user = entity.has(USER) ? (entity.get(USER) ?? null) : undefined;
    const clientId = entity.has(CLIENT_ID) ? (entity.get(CLIENT_ID) ?? null) : undefined;
    const managers: ReadonlyArray<readonly [string, ClientQuotaManager]> = [
      [PRODUCER_BYTE_RATE, this.produce],
      [CONSUMER_BYTE_RATE, this.fetch],
      [REQUEST_PERCENTAGE, this.request],
    ];
    for (const [key, manager] of managers) {
      if (keys.has(key) && before.get(key) !== after.get(key)) manager.updateQuota(user, clientId, after.get(key));
    }
  }

  /** A quota on a host name applies to the address it resolves to now (Kafka resolves it when applied). */
  private async applyHostQuota(host: string, rate: number | undefined): Promise<void> {
    const address = await this.resolveHost(host);
    if (address === undefined) {
      this.deps.logger.warn({ host }, 'the host of an ip client quota does not resolve; its connection_creation_rate is not applied');
      return;
    }
    this.connections.updateIpQuota(address, rate);
  }
}

/** The response with `throttleMs` as its throttle_time_ms when its version has one (else as it is). */
export function withThrottleTime<T>(response: T, def: MessageDef, version: number, throttleMs: number): T {
  if (!hasThrottleTime(def, version)) return response;
  return { ...response, throttleTimeMs: throttleMs };
}

/** The throttle_time_ms a handler put in its response (0 when none). */
export function throttleTimeOf(response: unknown): number {
  const ms = (response as { throttleTimeMs?: unknown } | undefined)?.throttleTimeMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}

const throttleFieldVersions = new WeakMap<MessageDef, ReturnType<typeof parseVersions>>();

function hasThrottleTime(def: MessageDef, version: number): boolean {
  let range = throttleFieldVersions.get(def);
  if (range === undefined) {
    range = parseVersions(def.fields.find((f) => f.name === 'throttleTimeMs' && f.tag === undefined)?.versions ?? 'none');
    throttleFieldVersions.set(def, range);
  }
  return inRange(range, version);
}

function isAddress(name: string): boolean {
  return isIP(name) !== 0;
}

async function defaultResolveHost(host: string): Promise<string | undefined> {
  try {
    return (await lookup(host)).address;
  } catch {
    return undefined;
  }
}
