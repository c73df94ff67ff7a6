/**
 * The broker's listeners, as Kafka's KafkaConfig reads them: `listeners`, `listener.security.protocol.map`,
 * `advertised.listeners`, `controller.listener.names`, and the inter-broker settings (checked only: Gregor
 * is one node and speaks to no other broker).
 *
 * The rules, in Kafka's words where Kafka has them:
 * 1. Every entry of `listeners` is NAME://host:port (an empty host binds every interface, an IPv6 host is
 *    written in brackets); names are case-insensitive and kept in upper case (Kafka's ListenerName
 *    .normalised); each name appears once; two listeners share a port only when one binds an IPv4 address
 *    and the other an IPv6 one (port 0, any free port, may repeat).
 * 2. A name in `controller.listener.names` (a KRaft server.properties has CONTROLLER) is the controller's,
 *    which Gregor is itself: it is left out (with a warning), needs no security protocol, and at least one
 *    other listener must remain.
 * 3. Every other listener's security protocol is its name's entry in `listener.security.protocol.map`
 *    (NAME:PROTOCOL pairs; Kafka's default maps PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL to
 *    themselves): "No security protocol defined for listener EXTERNAL" otherwise.
 * 4. `advertised.listeners`, when set, names where clients are told to connect, by listener name; its names
 *    must be among the listeners' (controller ones are left out here too), each once, and never a wildcard
 *    host. A listener it leaves out is served but not advertised: as in Kafka, a client connected to it
 *    finds no broker in Metadata (its partitions answer LISTENER_NOT_FOUND) and no coordinator. When
 *    `advertised.listeners` is not set, every listener is advertised at its own host, or at localhost when
 *    it binds every interface (never 0.0.0.0 or the machine's name, which clients often cannot resolve).
 *    Port 0 (advertised or not) becomes the port the listener is bound to.
 * 5. `inter.broker.listener.name` and `security.inter.broker.protocol` are not both set, and the one set
 *    names an advertised listener (Kafka's checks); neither set, nothing is required, as no broker connects.
 *
 * A listener's own settings are Kafka's listener-prefixed configs, `listener.name.<name in lower case>.<config>`
 * (listenerConfigPrefix), which win over the unprefixed config (BrokerConfig.listenerValue).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { SecurityProtocol } from '../session.js';
import { ConfigError } from './config-error.js';

/** What the listener rules read of the broker config (BrokerConfig has it). */
export interface ListenerConfigSource {
  list(name: string): string[];
  string(name: string): string;
  isSet(name: string): boolean;
  /** Where a static value came from, for messages; undefined for a default. */
  originOf(name: string): string | undefined;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** One listener the broker serves (Kafka's EndPoint). */
export interface ListenerEndpoint extends Endpoint {
  /** Its name, in upper case. */
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
}

/** Kafka's SecurityProtocol names. */
export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** Whether connections of the protocol are TLS ones. */
export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

/** Kafka's ListenerName.configPrefix: "listener.name.<name in lower case>.". */
export function listenerConfigPrefix(listenerName: string): string {
  return `listener.name.${listenerName.toLowerCase()}.`;
}

const LISTENER_CONFIG = /^listener\.name\.[^.]*\.(.*)$/;

/** The config a listener-prefixed name sets (listener.name.internal.ssl.keystore.location → ssl.keystore.location). */
export function listenerBaseName(name: string): string | undefined {
  return LISTENER_CONFIG.exec(name)?.[1];
}

/** An entry of `listeners` or `advertised.listeners`, parsed. */
export interface ListenerEntry extends Endpoint {
  readonly name: string;
  /** The entry as written. */
  readonly uri: string;
}

/** Every listener the broker serves, and where clients are told to connect to each. */
export interface BrokerListeners {
  /** In the order of `listeners`, the controller ones left out. */
  readonly listeners: readonly ListenerEndpoint[];
  /** The advertised endpoint of each listener, by name; a listener not advertised has none. */
  readonly advertised: ReadonlyMap<string, Endpoint>;
  /** The entries of `listeners` left out as the controller's (controller.listener.names). */
  readonly controllerListeners: readonly string[];
}

const LISTENER_URI = /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:[\]]*):(\d+)$/;
const FORM = 'NAME://host:port';

/** " (from <origin>)" for a static value, "" for a default. */
function fromOf(config: ListenerConfigSource, name: string): string {
  const origin = config.originOf(name);
  return origin === undefined ? '' : ` (from ${origin})`;
}

function problem(config: ListenerConfigSource, key: string, text: string): ConfigError {
  return new ConfigError(`invalid configuration ${key}: ${text}${fromOf(config, key)}`);
}

/** Parses one entry ("SSL://host:9093"; empty host = every interface). */
export function parseListener(uri: string, key: string, from = ''): ListenerEntry {
  const m = LISTENER_URI.exec(uri.trim());
  if (!m) throw new ConfigError(`invalid configuration ${key}: '${uri}' is not of the form ${FORM}${from}`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`invalid configuration ${key}: port ${port} out of range${from}`);
  return { name: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[|\]$/g, ''), port, uri: uri.trim() };
}

/** The entries of `listeners` or `advertised.listeners`, each name once (rule 1). */
export function listenerEntries(config: ListenerConfigSource, key: 'listeners' | 'advertised.listeners'): ListenerEntry[] {
  const from = fromOf(config, key);
  const entries = config.list(key).map((uri) => parseListener(uri, key, from));
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw problem(config, key, `the listener name ${e.name} appears more than once`);
    names.add(e.name);
  }
  return entries;
}

/** listener.security.protocol.map, names in upper case (rule 3). */
export function securityProtocolMap(config: ListenerConfigSource): Map<string, SecurityProtocol> {
  const key = 'listener.security.protocol.map';
  const out = new Map<string, SecurityProtocol>();
  for (const pair of config.list(key)) {
    const parts = pair.split(':');
    if (parts.length !== 2 || parts[0]!.trim() === '') throw problem(config, key, `'${pair}' is not of the form NAME:PROTOCOL`);
    const protocol = parts[1]!.trim().toUpperCase();
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
      throw problem(config, key, `invalid security protocol \`${parts[1]!.trim()}\` (one of ${SECURITY_PROTOCOLS.join(', ')})`);
    }
    out.set(parts[0]!.trim().toUpperCase(), protocol as SecurityProtocol);
  }
  return out;
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

/** Rule 1's ports: each listener its own, unless one binds IPv4 and the other IPv6 (port 0 may repeat). */
function checkPorts(config: ListenerConfigSource, listeners: readonly ListenerEntry[]): void {
  const byPort = new Map<number, ListenerEntry[]>();
  for (const l of listeners) if (l.port !== 0) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  for (const [port, same] of byPort) {
    if (same.length < 2) continue;
    const [a, b] = same as [ListenerEntry, ListenerEntry];
    const ipv4AndIpv6 = same.length === 2 && ((isIPv4(a.host) && isIPv6(b.host)) || (isIPv6(a.host) && isIPv4(b.host)));
    if (!ipv4AndIpv6) {
      throw problem(config, 'listeners', `each listener must have a different port unless one binds an IPv4 address and the other an IPv6 one (port ${port}: ${same.map((l) => l.name).join(', ')})`);
    }
  }
}

/** Every listener the broker serves and their advertised endpoints (rules 1-5 above). */
export function brokerListenersOf(config: ListenerConfigSource): BrokerListeners {
  const controllers = new Set(config.list('controller.listener.names').map((n) => n.toUpperCase()));
  const all = listenerEntries(config, 'listeners');
  const served = all.filter((l) => !controllers.has(l.name));
  const controllerListeners = all.filter((l) => controllers.has(l.name)).map((l) => l.uri);
  if (served.length === 0) {
    if (controllerListeners.length > 0) throw problem(config, 'listeners', `'${config.string('listeners')}' has only controller listeners (controller.listener.names), none for clients`);
    throw problem(config, 'listeners', 'empty');
  }
  checkPorts(config, served);
  const protocols = securityProtocolMap(config);
  const listeners = served.map((l): ListenerEndpoint => {
    const securityProtocol = protocols.get(l.name);
    if (securityProtocol === undefined) {
      throw problem(config, 'listeners', `No security protocol defined for listener ${l.name} (listener.security.protocol.map${fromOf(config, 'listener.security.protocol.map')} has none for it)`);
    }
    return { name: l.name, securityProtocol, host: l.host, port: l.port };
  });
  const advertised = new Map<string, Endpoint>();
  if (config.isSet('advertised.listeners')) {
    const names = new Set(listeners.map((l) => l.name));
    const entries = listenerEntries(config, 'advertised.listeners').filter((e) => !controllers.has(e.name));
    const unknown = entries.filter((e) => !names.has(e.name));
    if (unknown.length > 0) {
      throw problem(
        config,
        'advertised.listeners',
        `advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found ${entries.map((e) => e.name).join(',')}. The valid options based on the current configuration are ${[...names].join(',')}`,
      );
    }
    if (entries.length === 0) throw problem(config, 'advertised.listeners', 'There must be at least one broker advertised listener.');
    for (const e of entries) {
      if (isWildcard(e.host)) throw problem(config, 'advertised.listeners', `'${e.uri}' must name a host clients can reach`);
      advertised.set(e.name, { host: e.host, port: e.port });
    }
  } else {
    for (const l of listeners) advertised.set(l.name, { host: isWildcard(l.host) ? 'localhost' : l.host, port: l.port });
  }
  checkInterBrokerListener(config, advertised);
  return { listeners, advertised, controllerListeners };
}

/** Rule 5. */
function checkInterBrokerListener(config: ListenerConfigSource, advertised: ReadonlyMap<string, Endpoint>): void {
  const byName = config.isSet('inter.broker.listener.name');
  const byProtocol = config.isSet('security.inter.broker.protocol');
  if (byName && byProtocol) {
    throw new ConfigError(
      `invalid configuration: Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.${fromOf(config, 'inter.broker.listener.name')}`,
    );
  }
  if (!byName && !byProtocol) return;
  const key = byName ? 'inter.broker.listener.name' : 'security.inter.broker.protocol';
  const name = config.string(key).trim().toUpperCase();
  if (byName && !securityProtocolMap(config).has(name)) {
    throw problem(config, key, `Listener with name ${name} defined in inter.broker.listener.name not found in listener.security.protocol.map.`);
  }
  if (!advertised.has(name)) {
    throw problem(
      config,
      key,
      `inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are ${[...advertised.keys()].join(',')}`,
    );
  }
}

/** The first listener clients connect to (in the order of `listeners`). */
export function listenerOf(config: ListenerConfigSource): ListenerEndpoint {
  return brokerListenersOf(config).listeners[0]!;
}

/** Where clients are told to connect to the first advertised listener (in the order of `listeners`). */
export function advertisedListenerOf(config: ListenerConfigSource): Endpoint {
  const { listeners, advertised } = brokerListenersOf(config);
  for (const l of listeners) {
    const ep = advertised.get(l.name);
    if (ep !== undefined) return ep;
  }
  throw problem(config, 'advertised.listeners', 'There must be at least one broker advertised listener.');
}
