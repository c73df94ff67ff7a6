/**
 * What one SASL listener (SASL_PLAINTEXT, SASL_SSL) offers, read from the
 * broker config at start as Kafka's SaslChannelBuilder reads it. A config of
 * a listener is looked up as Kafka's SaslChannelBuilder does:
 * `listener.name.<listener>.<mechanism>.<config>`, then
 * `listener.name.<listener>.<config>`, then `<config>` (listener and
 * mechanism in lower case; BrokerConfig.listenerValue for each).
 *
 * - sasl.enabled.mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and
 *   OAUTHBEARER. Kafka's default is GSSAPI, which Gregor does not have: a SASL
 *   listener that enables it (or leaves the default) stops the start, saying
 *   so; so does any other mechanism, or none.
 * - PLAIN: the users are the `user_<name>` options of the PlainLoginModule
 *   entry of `listener.name.<l>.plain.sasl.jaas.config` (required, as in
 *   Kafka, where a listener without a JAAS entry for a mechanism does not
 *   start). A `sasl.jaas.config` without the listener and mechanism prefix is
 *   ignored with Kafka's warning.
 * - SCRAM-SHA-256/512: the credentials of the SCRAM credential store (a JAAS
 *   entry is accepted and not needed).
 * - OAUTHBEARER: the unsecured validator with the options of its JAAS entry
 *   (Kafka's default), or, with
 *   `…oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common
 *   .security.oauthbearer.OAuthBearerValidatorCallbackHandler`, signed JWTs
 *   checked against the JWKS file of `sasl.oauthbearer.jwks.endpoint.url`
 *   (file: URLs only) with the `sasl.oauthbearer.*` claim settings.
 * - Other server callback handler classes cannot be loaded: refused.
 * - connections.max.reauth.ms per mechanism, sasl.server.max.receive.size,
 *   and connection.failed.authentication.delay.ms.
 * A bad value stops the start with a ConfigError naming the config; the
 * messages never quote a JAAS value (it holds passwords).
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrokerConfig } from '../../config/broker-config.js';
import { ConfigError } from '../../config/config-error.js';
import { listenerConfigPrefix } from '../../config/listeners.js';
import { JaasConfigError, parseSingleJaasEntry, type JaasEntry } from './jaas-config.js';
import { jwtValidator, parseJwks } from './oauthbearer-jwt-validator.js';
import { OAuthBearerSaslServer, type OAuthBearerValidator } from './oauthbearer-server.js';
import { unsecuredValidator, unsecuredValidatorOptions } from './oauthbearer-unsecured-jws.js';
import { PLAIN_LOGIN_MODULE, PlainSaslServer, plainUsersOf } from './plain-server.js';
import type { SaslServer } from './sasl-server.js';
import type { SaslListenerSettings } from './sasl-server-authenticator.js';
import { scramMechanismByName } from './scram-mechanism.js';
import { ScramSaslServer, type ScramCredentialLookup } from './scram-server.js';

/** What the settings read of the broker config. */
export type SaslConfigSource = Pick<BrokerConfig, 'listenerValue' | 'listenerIsSet' | 'isSet' | 'originOf'>;

/** A config's value for a listener and mechanism, and the name it came from (for messages). */
interface Setting {
  readonly value: string | null;
  readonly key: string;
}

export const SUPPORTED_MECHANISMS: readonly string[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

const UNSECURED_VALIDATOR = 'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler';
const JWT_VALIDATORS: ReadonlySet<string> = new Set([
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
]);

/** The settings of SASL listener `listener`; `warnings` gets what starts but may not do what is meant. */
export function saslListenerSettings(config: SaslConfigSource, listener: string, credentials: ScramCredentialLookup, warnings: string[]): SaslListenerSettings {
  const prefix = listenerConfigPrefix(listener);
  const value = (name: string, mechanism?: string): Setting => {
    const own = mechanism === undefined ? undefined : `${mechanism.toLowerCase()}.${name}`;
    if (own !== undefined && config.listenerIsSet(listener, own)) return { value: config.listenerValue(listener, own), key: prefix + own };
    if (config.listenerIsSet(listener, name)) return { value: config.listenerValue(listener, name), key: prefix + name };
    return { value: config.listenerValue(listener, name), key: name };
  };
  const problem = (key: string, text: string): ConfigError => {
    const origin = config.originOf(key);
    return new ConfigError(`invalid configuration ${key}: ${text}${origin === undefined ? '' : ` (from ${origin})`}`);
  };
  /** A whole number of at least `min` (a mechanism-prefixed value is checked only here). */
  const whole = (setting: Setting, fallback: number, min: number): number => {
    if (setting.value === null) return fallback;
    const n = Number(setting.value.trim());
    if (setting.value.trim() === '' || !Number.isSafeInteger(n)) throw problem(setting.key, `'${setting.value}' is not an integer`);
    if (n < min) throw problem(setting.key, `${n} is below ${min}`);
    return n;
  };
  const enabledSetting = value('sasl.enabled.mechanisms');
  const enabled = (enabledSetting.value ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (enabled.length === 0) throw problem(enabledSetting.key, `No SASL mechanisms are enabled for listener ${listener}`);
  for (const m of enabled) {
    if (m === 'GSSAPI') {
      throw problem(
        enabledSetting.key,
        `GSSAPI (Kerberos, Kafka's default) is not supported by Gregor; listener ${listener} needs sasl.enabled.mechanisms (or listener.name.${listener.toLowerCase()}.sasl.enabled.mechanisms) of ${SUPPORTED_MECHANISMS.join(', ')}`,
      );
    }
    if (!SUPPORTED_MECHANISMS.includes(m)) throw problem(enabledSetting.key, `unsupported SASL mechanism ${m} (Gregor has ${SUPPORTED_MECHANISMS.join(', ')})`);
  }
  if (config.isSet('sasl.jaas.config')) {
    warnings.push('Server config sasl.jaas.config should be prefixed with SASL mechanism name, ignoring config (as Kafka: use listener.name.<listener>.<mechanism>.sasl.jaas.config)');
  }
  const jaasEntry = (mechanism: string): { entry: JaasEntry | undefined; key: string } => {
    // only the mechanism's own entry counts: Kafka ignores a sasl.jaas.config without the mechanism prefix
    const own = `${mechanism.toLowerCase()}.sasl.jaas.config`;
    const key = prefix + own;
    const text = config.listenerIsSet(listener, own) ? config.listenerValue(listener, own) : null;
    if (text === null) return { entry: undefined, key };
    try {
      return { entry: parseSingleJaasEntry(text), key };
    } catch (err) {
      if (err instanceof JaasConfigError) throw problem(key, err.message);
      throw err;
    }
  };
  const factories = new Map<string, () => SaslServer>();
  const maxReauth = new Map<string, number>();
  for (const mechanism of enabled) {
    const handler = value('sasl.server.callback.handler.class', mechanism);
    const { entry, key: jaasKey } = jaasEntry(mechanism);
    if (mechanism === 'OAUTHBEARER') {
      const validator = oauthValidator(listener, handler, entry, jaasKey, value, problem, warnings, whole);
      factories.set(mechanism, () => new OAuthBearerSaslServer(validator));
    } else {
      if (handler.value !== null) throw problem(handler.key, `Gregor cannot load SASL callback handler classes (${handler.value}); ${mechanism} uses its own`);
      const scram = scramMechanismByName(mechanism);
      if (scram !== undefined) {
        factories.set(mechanism, () => new ScramSaslServer(scram, credentials));
      } else {
        if (entry === undefined) {
          throw problem(jaasKey, `not set: the PLAIN users of listener ${listener} are the user_<name>="<password>" options of its ${PLAIN_LOGIN_MODULE} entry`);
        }
        if (entry.loginModule !== PLAIN_LOGIN_MODULE) throw problem(jaasKey, `the login module ${entry.loginModule} is not ${PLAIN_LOGIN_MODULE}, whose user_<name> options are PLAIN's users`);
        const users = plainUsersOf(entry);
        if (users.size === 0) warnings.push(`${jaasKey} has no user_<name> option: no PLAIN login can succeed on listener ${listener}`);
        factories.set(mechanism, () => new PlainSaslServer(users));
      }
    }
    maxReauth.set(mechanism, whole(value('connections.max.reauth.ms', mechanism), 0, Number.MIN_SAFE_INTEGER));
  }
  const delay = whole(value('connection.failed.authentication.delay.ms'), 100, 0);
  const maxReceive = whole(value('sasl.server.max.receive.size'), 524288, Number.MIN_SAFE_INTEGER);
  return {
    listener,
    enabledMechanisms: enabled,
    failedAuthenticationDelayMs: delay,
    maxReceiveBytes: maxReceive,
    newServer: (mechanism) => factories.get(mechanism)!(),
    maxReauthMs: (mechanism) => maxReauth.get(mechanism) ?? 0,
  };
}

/** The OAUTHBEARER validator of a listener: Kafka's unsecured one, or signed JWTs against a JWKS file. */
function oauthValidator(
  listener: string,
  handler: Setting,
  entry: JaasEntry | undefined,
  jaasKey: string,
  value: (name: string, mechanism?: string) => Setting,
  problem: (key: string, text: string) => ConfigError,
  warnings: string[],
  whole: (setting: Setting, fallback: number, min: number) => number,
): OAuthBearerValidator {
  const setting = (name: string): Setting => value(name, 'OAUTHBEARER');
  const jwks = setting('sasl.oauthbearer.jwks.endpoint.url');
  if (handler.value === null || handler.value === UNSECURED_VALIDATOR) {
    if (jwks.value !== null) {
      warnings.push(
        `listener ${listener}: ${jwks.key} is set but OAUTHBEARER uses Kafka's default unsecured validator (any unsigned token is trusted); set listener.name.${listener.toLowerCase()}.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler to check signatures`,
      );
    }
    try {
      return unsecuredValidator(unsecuredValidatorOptions(entry?.options ?? new Map()));
    } catch (err) {
      throw problem(jaasKey, (err as Error).message);
    }
  }
  if (!JWT_VALIDATORS.has(handler.value)) throw problem(handler.key, `Gregor cannot load SASL callback handler classes (${handler.value}); OAUTHBEARER has ${[...JWT_VALIDATORS][0]} and the unsecured default`);
  const oauthProblem = (text: string): ConfigError => problem(jwks.key, `The OAuth configuration option sasl.oauthbearer.jwks.endpoint.url ${text}`);
  if (jwks.value === null || jwks.value.trim() === '') throw oauthProblem('value must be non-null');
  let url: URL;
  try {
    url = new URL(jwks.value.trim());
  } catch {
    throw oauthProblem(`contains a URL (${jwks.value}) that is malformed`);
  }
  if (url.protocol !== 'file:') {
    throw oauthProblem(`contains a URL (${jwks.value}) that Gregor cannot read: only file: URLs are supported (Gregor fetches no JWKS over ${url.protocol.replace(':', '').toUpperCase()})`);
  }
  const path = fileURLToPath(url);
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw oauthProblem(`references a directory (${path}), not a file`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw oauthProblem(`contains a file (${path}) that doesn't exist or cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let keys;
  try {
    keys = parseJwks(text);
  } catch (err) {
    throw oauthProblem(`contains a file (${path}) that is not a JWKS: ${(err as Error).message}`);
  }
  if (keys.length === 0) warnings.push(`listener ${listener}: the JWKS ${path} has no RSA or EC key: no OAUTHBEARER token can be verified`);
  const audience = setting('sasl.oauthbearer.expected.audience').value;
  const issuer = setting('sasl.oauthbearer.expected.issuer').value;
  return jwtValidator({
    keys,
    clockSkewSeconds: whole(setting('sasl.oauthbearer.clock.skew.seconds'), 30, 0),
    expectedAudiences: (audience ?? '').split(',').map((a) => a.trim()).filter((a) => a !== ''),
    expectedIssuer: issuer === null || issuer.trim() === '' ? undefined : issuer.trim(),
    subClaimName: (setting('sasl.oauthbearer.sub.claim.name').value ?? 'sub').trim() || 'sub',
    scopeClaimName: (setting('sasl.oauthbearer.scope.claim.name').value ?? 'scope').trim() || 'scope',
  });
}
