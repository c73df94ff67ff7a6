/**
 * A TLS listener's settings (SSL and SASL_SSL), from the listener's values of Kafka's ssl.* configs
 * (listener.name.<listener>.ssl.* over ssl.*), checked with Kafka's rules and words
 * (DefaultSslEngineFactory): what node:tls needs to serve the handshake, the client authentication, and
 * the principal mapping.
 *
 * Key store (the broker's certificate), PEM only (ssl.keystore.type=PEM; Kafka's default JKS and PKCS12
 * are refused with a message saying so):
 * - inline: ssl.keystore.key (one private key, PKCS#8 or another form OpenSSL reads, encrypted with
 *   ssl.key.password when it is) and ssl.keystore.certificate.chain (the certificate, then its chain);
 * - a file: ssl.keystore.location, a PEM file holding the key and the chain (ssl.key.password for an
 *   encrypted key); ssl.keystore.password has no place with PEM ("only key password may be specified").
 * Trust store (the CAs client certificates must chain to), PEM only: ssl.truststore.certificates inline or
 * ssl.truststore.location; none: the CAs Node trusts (as Kafka then trusts the JVM's).
 * The private key must match the first certificate. Inline PEM may be on one line (a properties file's
 * continuation lines join it), as Kafka reads it.
 *
 * Protocols: ssl.enabled.protocols (TLSv1.2, TLSv1.3) capped by ssl.protocol (TLSv1.2 allows up to 1.2,
 * TLSv1.3 or TLS up to 1.3), as Java's SSLContext protocol and enabled protocols combine; anything older
 * is never served. ssl.cipher.suites: IANA or OpenSSL names (cipher-suites.ts); empty: Node's defaults.
 *
 * ssl.client.auth: none, requested (a certificate is asked for; one that is sent must be trusted) or
 * required. On a SASL_SSL listener only its listener-prefixed value counts (Kafka: the unprefixed one
 * applies to SSL listeners only, with a warning).
 *
 * The principal of an SSL connection: User:<the client certificate's subject, RFC 2253, mapped by
 * ssl.principal.mapping.rules>, or User:ANONYMOUS without a certificate (Kafka's
 * DefaultKafkaPrincipalBuilder).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import tls from 'node:tls';
import type { ConfigView } from '../config/broker-config.js';
import { ConfigError } from '../config/config-error.js';
import { LISTENER_SSL_CONFIGS } from '../config/dynamic-broker-configs.js';
import type { Listener } from '../session.js';
import { opensslCipherName } from './cipher-suites.js';
import { SslPrincipalMapper } from './ssl-principal-mapper.js';

export type SslClientAuth = 'none' | 'requested' | 'required';

/** What the settings read: a listener's values of configs (BrokerConfig.listenerValue and listenerIsSet). */
export interface ListenerConfigValues {
  value(name: string): string | null;
  /** Whether the listener has its own value (listener.name.<listener>.<name>). */
  isSetForListener(name: string): boolean;
}

/** A listener's values of the broker config. */
export function listenerConfigValues(config: Pick<ConfigView, 'listenerValue' | 'listenerIsSet'>, listenerName: string): ListenerConfigValues {
  return { value: (name) => config.listenerValue(listenerName, name), isSetForListener: (name) => config.listenerIsSet(listenerName, name) };
}

/** The configs a TLS listener's settings are made from. */
export const TLS_CONFIGS: readonly string[] = [...LISTENER_SSL_CONFIGS, 'ssl.principal.mapping.rules'];

export interface TlsSettings {
  /** The secure context's options (key, certificate chain, CAs, versions, ciphers). */
  readonly context: tls.SecureContextOptions;
  readonly clientAuth: SslClientAuth;
  /** The key store's certificate (the first of the chain). */
  readonly certificate: X509Certificate;
  readonly principalMapper: SslPrincipalMapper;
  /** The config values read, to tell whether a change concerns the listener (holds secrets: never logged). */
  readonly inputs: string;
  /** The files read, with their modification times, to tell whether one was rewritten. */
  readonly files: ReadonlyMap<string, number>;
  /** What starts but may not do what the user expects (logged at start). */
  readonly warnings: readonly string[];
}

interface PemBlock {
  readonly label: string;
  /** The block, normalised to PEM lines. */
  readonly pem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** PEM blocks of a text, each rewritten as standard PEM (a one-line block from a properties file included). */
function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    const body = m[2]!;
    // a block with headers (legacy encrypted keys) is kept as written
    if ((body.trim().split(/\r?\n/)[0] ?? '').includes(':')) {
      out.push({ label, pem: m[0] });
      continue;
    }
    const base64 = body.replace(/\s+/g, '');
    const lines = base64.match(/.{1,64}/g) ?? [];
    out.push({ label, pem: `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n` });
  }
  return out;
}

class StoreError extends Error {}

/** The key and certificate chain of PEM text (Kafka's PemStore). */
function keyStoreOf(keyText: string, chainText: string, keyPassword: string | null): { key: string; chain: string[]; certificate: X509Certificate } {
  const keys = pemBlocks(keyText).filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keys.length === 0) throw new StoreError('Private key not provided');
  if (keys.length !== 1) throw new StoreError(`Expected one private key, but found ${keys.length}`);
  const chain = pemBlocks(chainText).filter((b) => b.label === 'CERTIFICATE');
  if (chain.length === 0) throw new StoreError('At least one certificate expected, but none found');
  let key;
  try {
    key = createPrivateKey({ key: keys[0]!.pem, format: 'pem', ...(keyPassword === null ? {} : { passphrase: keyPassword }) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ERR_MISSING_PASSPHRASE' ? 'it is encrypted and ssl.key.password is not set' : keyPassword === null ? 'it cannot be read' : 'it cannot be read or ssl.key.password is wrong';
    throw new StoreError(`Private key could not be loaded: ${why}`);
  }
  let certificate;
  try {
    certificate = new X509Certificate(chain[0]!.pem);
  } catch {
    throw new StoreError('The first certificate cannot be read');
  }
  if (!certificate.checkPrivateKey(key)) throw new StoreError('The private key does not match the certificate');
  return { key: key.export({ type: 'pkcs8', format: 'pem' }) as string, chain: chain.map((b) => b.pem), certificate };
}

function readStoreFile(path: string, files: Map<string, number>): string {
  try {
    const text = readFileSync(path, 'utf8');
    files.set(path, statSync(path).mtimeMs);
    return text;
  } catch (err) {
    throw new StoreError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Kafka's createKeystore rules, PEM only. */
function keyStore(v: ListenerConfigValues, files: Map<string, number>): { key: string; chain: string[]; certificate: X509Certificate } {
  const type = (v.value('ssl.keystore.type') ?? 'JKS').trim();
  const location = v.value('ssl.keystore.location');
  const password = v.value('ssl.keystore.password');
  const keyPassword = v.value('ssl.key.password');
  const privateKey = v.value('ssl.keystore.key');
  const chain = v.value('ssl.keystore.certificate.chain');
  if (privateKey !== null) {
    if (type !== 'PEM') throw new StoreError(`SSL private key can be specified only for PEM, but key store type is ${type}.`);
    if (chain === null) throw new StoreError('SSL private key is specified, but certificate chain is not specified.');
    if (location !== null) throw new StoreError('Both SSL key store location and separate private key are specified.');
    if (password !== null) throw new StoreError('SSL key store password cannot be specified with PEM format, only key password may be specified.');
    return wrap('Invalid PEM keystore configs', () => keyStoreOf(privateKey, chain, keyPassword));
  }
  if (chain !== null) throw new StoreError('SSL certificate chain is specified, but private key is not specified');
  if (location === null) {
    throw new StoreError('no key store: set ssl.keystore.type=PEM and ssl.keystore.location (a PEM file with the key and the certificate chain), or ssl.keystore.key and ssl.keystore.certificate.chain');
  }
  if (type !== 'PEM') throw new StoreError(`ssl.keystore.type is ${type}: Gregor reads PEM key stores only (set ssl.keystore.type=PEM, with a PEM file holding the key and the certificate chain)`);
  if (password !== null) throw new StoreError('SSL key store password cannot be specified with PEM format, only key password may be specified');
  const text = readStoreFile(location, files);
  return wrap(`Failed to load PEM SSL keystore ${location}`, () => keyStoreOf(text, text, keyPassword));
}

/** Kafka's createTruststore rules, PEM only: the CA certificates, or undefined for Node's. */
function trustStore(v: ListenerConfigValues, files: Map<string, number>): string[] | undefined {
  const type = (v.value('ssl.truststore.type') ?? 'JKS').trim();
  const location = v.value('ssl.truststore.location');
  const password = v.value('ssl.truststore.password');
  const certificates = v.value('ssl.truststore.certificates');
  const certs = (text: string, what: string): string[] => {
    const blocks = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length === 0) throw new StoreError(`${what}: At least one certificate expected, but none found`);
    for (const b of blocks) wrap(what, () => new X509Certificate(b.pem));
    return blocks.map((b) => b.pem);
  };
  if (certificates !== null) {
    if (type !== 'PEM') throw new StoreError(`SSL trust store certs can be specified only for PEM, but trust store type is ${type}.`);
    if (location !== null) throw new StoreError('Both SSL trust store location and separate trust certificates are specified.');
    if (password !== null) throw new StoreError('SSL trust store password cannot be specified for PEM format.');
    return certs(certificates, 'Invalid PEM truststore configs');
  }
  if (location === null) {
    if (password !== null) throw new StoreError('SSL trust store is not specified, but trust store password is specified.');
    return undefined;
  }
  if (type !== 'PEM') throw new StoreError(`ssl.truststore.type is ${type}: Gregor reads PEM trust stores only (set ssl.truststore.type=PEM, with a PEM file of CA certificates)`);
  if (password !== null) throw new StoreError('SSL trust store password cannot be specified for PEM format.');
  return certs(readStoreFile(location, files), `Failed to load PEM SSL truststore ${location}`);
}

function wrap<T>(what: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw new StoreError(`${what}: ${(err as Error).message}`);
  }
}

/** minVersion/maxVersion from ssl.enabled.protocols and ssl.protocol (see the top of this file). */
function versions(v: ListenerConfigValues): { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } {
  const enabled = (v.value('ssl.enabled.protocols') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const allowed = enabled.length === 0 ? ['TLSv1.2', 'TLSv1.3'] : enabled;
  const protocol = (v.value('ssl.protocol') ?? 'TLSv1.3').trim();
  const cap = protocol === 'TLSv1.2' ? ['TLSv1.2'] : ['TLSv1.2', 'TLSv1.3'];
  const usable = (['TLSv1.2', 'TLSv1.3'] as const).filter((p) => allowed.includes(p) && cap.includes(p));
  if (usable.length === 0) throw new StoreError(`ssl.protocol ${protocol} leaves none of ssl.enabled.protocols (${enabled.join(',')})`);
  return { minVersion: usable[0]!, maxVersion: usable[usable.length - 1]! };
}

function ciphers(v: ListenerConfigValues): string | undefined {
  const names = (v.value('ssl.cipher.suites') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return undefined;
  return names
    .map((name) => {
      const openssl = opensslCipherName(name);
      if (openssl === undefined) throw new StoreError(`ssl.cipher.suites: this Node's OpenSSL has no cipher suite ${name}`);
      return openssl;
    })
    .join(':');
}

/**
 * The TLS settings of a listener; a ConfigError names the listener and Kafka's reason. Reads the key and
 * trust store files.
 */
export function tlsSettingsOf(listener: Listener, v: ListenerConfigValues): TlsSettings {
  try {
    const files = new Map<string, number>();
    const warnings: string[] = [];
    const { key, chain, certificate } = keyStore(v, files);
    const ca = trustStore(v, files);
    let clientAuth = (v.value('ssl.client.auth') ?? 'none').trim() as SslClientAuth;
    if (listener.securityProtocol === 'SASL_SSL' && !v.isSetForListener('ssl.client.auth')) {
      if (clientAuth !== 'none') {
        warnings.push(
          `listener ${listener.name}: ssl.client.auth=${clientAuth} applies to SSL listeners only; set listener.name.${listener.name.toLowerCase()}.ssl.client.auth for this SASL_SSL listener (as in Kafka)`,
        );
      }
      clientAuth = 'none';
    }
    const context: tls.SecureContextOptions = { key, cert: chain.join(''), ...versions(v), ...(ca === undefined ? {} : { ca }) };
    const suites = ciphers(v);
    if (suites !== undefined) context.ciphers = suites;
    try {
      tls.createSecureContext(context);
    } catch (err) {
      throw new StoreError(`the TLS context cannot be made: ${(err as Error).message}`);
    }
    const principalMapper = wrap('ssl.principal.mapping.rules', () => new SslPrincipalMapper(v.value('ssl.principal.mapping.rules')));
    const inputs = tlsInputsOf(v);
    return { context, clientAuth, certificate, principalMapper, inputs, files, warnings };
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    throw new ConfigError(`invalid configuration of listener ${listener.name} (${listener.securityProtocol}): ${err.message}`);
  }
}

/** The values of a listener's TLS configs, as one text to compare (holds secrets: never logged). */
export function tlsInputsOf(v: ListenerConfigValues): string {
  return JSON.stringify(TLS_CONFIGS.map((name) => [name, v.value(name), v.isSetForListener(name)]));
}

/** Whether a file the settings were read from has been rewritten (or removed) since. */
export function filesModified(settings: TlsSettings): boolean {
  for (const [path, mtime] of settings.files) {
    try {
      if (statSync(path).mtimeMs !== mtime) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** The subject alternative names of a certificate, as a set of entries ("DNS:localhost"). */
function subjectAltNames(certificate: X509Certificate): Set<string> {
  return new Set((certificate.subjectAltName ?? '').split(/,\s*/).filter((s) => s !== ''));
}

/**
 * Why new settings may not replace the current ones of a running listener, as Kafka's SslFactory
 * validates a reconfiguration: the new certificate keeps the subject (unless ssl.allow.dn.changes) and
 * every subject alternative name (unless ssl.allow.san.changes). Undefined when they may.
 */
export function reconfigurationProblem(current: TlsSettings, next: TlsSettings, allowDnChanges: boolean, allowSanChanges: boolean): string | undefined {
  const [oldDn, newDn] = [current.certificate.subject, next.certificate.subject];
  if (!allowDnChanges && oldDn.toLowerCase() !== newDn.toLowerCase()) {
    return `Keystore DistinguishedName does not match:  existing={alias=kafka, DN=${oneLine(oldDn)}}, new={alias=kafka, DN=${oneLine(newDn)}}`;
  }
  if (!allowSanChanges) {
    const [oldSans, newSans] = [subjectAltNames(current.certificate), subjectAltNames(next.certificate)];
    if ([...oldSans].some((san) => !newSans.has(san))) {
      return `Keystore SubjectAltNames do not match:  existing={alias=kafka, SAN=[${[...oldSans].join(', ')}]}, new={alias=kafka, SAN=[${[...newSans].join(', ')}]}`;
    }
  }
  return undefined;
}

function oneLine(subject: string): string {
  return subject.split('\n').reverse().join(', ');
}
