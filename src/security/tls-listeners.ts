/**
 * The TLS of every SSL and SASL_SSL listener, and its reconfiguration without a restart, as Kafka's
 * DynamicBrokerConfig and SslFactory do it for `listener.name.<listener>.ssl.*` (certificate rotation):
 *
 * 1. At start, each TLS listener's settings are made from its configs (tls-context.ts); a bad one stops
 *    the start with a ConfigError naming the listener.
 * 2. A change of this broker's or the cluster's dynamic configs (AlterConfigs, IncrementalAlterConfigs on
 *    the BROKER resource) that changes a listener's TLS configs is validated before it is stored: the new
 *    key store must load, match its key, and keep the certificate's subject and subject alternative names
 *    unless ssl.allow.dn.changes / ssl.allow.san.changes; otherwise the change is refused with Kafka's
 *    answer, INVALID_REQUEST "Invalid dynamic configuration", and the reason is logged (never the
 *    secrets).
 * 3. Once stored, the listeners whose TLS configs changed, or whose key or trust store files were rewritten
 *    since they were read (so setting a location to the same path reloads the file, as in Kafka), get the
 *    new settings: new connections handshake with them, open ones keep theirs. A rewritten file that no
 *    longer loads leaves the listener as it was, with a warning.
 */
import type { BrokerConfig, DynamicConfigLevel } from '../config/broker-config.js';
import type { ListenerEndpoint } from '../config/listeners.js';
import { usesTls } from '../config/listeners.js';
import type { Logger } from '../logger.js';
import { SslFactory } from './ssl-factory.js';
import { filesModified, listenerConfigValues, reconfigurationProblem, tlsInputsOf, tlsSettingsOf, type TlsSettings } from './tls-context.js';

/** Kafka's answer to a dynamic change a reconfigurable refuses (DynamicBrokerConfig). */
const INVALID_DYNAMIC_CONFIGURATION = 'Invalid dynamic configuration';

/** What config changes use of the TLS listeners (alter-config-resources.ts). */
export interface ListenerReconfiguration {
  /** Why a new dynamic layer may not be applied to the TLS listeners (Kafka's message), or undefined. */
  validateReconfiguration(level: DynamicConfigLevel, configs: Readonly<Record<string, string>>): string | undefined;
  /** Applies the current configs to the TLS listeners (after a change was stored). */
  reconfigure(): void;
}

export class TlsListeners implements ListenerReconfiguration {
  private readonly factories = new Map<string, { readonly listener: ListenerEndpoint; readonly factory: SslFactory }>();

  /** Makes the settings of every TLS listener of `listeners` (rule 1); throws a ConfigError. */
  constructor(
    listeners: readonly ListenerEndpoint[],
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
  ) {
    const handshakeTimeoutMs = config.long('gregor.request.read.timeout.ms');
    for (const listener of listeners) {
      if (!usesTls(listener.securityProtocol)) continue;
      const settings = tlsSettingsOf(listener, listenerConfigValues(config, listener.name));
      for (const warning of settings.warnings) logger.warn(warning);
      this.factories.set(listener.name, { listener, factory: new SslFactory(listener, settings, { handshakeTimeoutMs, logger }) });
    }
  }

  /** The TLS of a listener; undefined for a PLAINTEXT or SASL_PLAINTEXT one. */
  factoryOf(listenerName: string): SslFactory | undefined {
    return this.factories.get(listenerName)?.factory;
  }

  validateReconfiguration(level: DynamicConfigLevel, configs: Readonly<Record<string, string>>): string | undefined {
    const next = this.config.withDynamic(level, configs);
    for (const { listener, factory } of this.factories.values()) {
      const values = listenerConfigValues(next, listener.name);
      if (tlsInputsOf(values) === factory.settings.inputs) continue;
      const problem = this.check(listener, factory.settings, () => tlsSettingsOf(listener, values), values.value('ssl.allow.dn.changes'), values.value('ssl.allow.san.changes'));
      if (typeof problem === 'string') return INVALID_DYNAMIC_CONFIGURATION;
    }
    return undefined;
  }

  reconfigure(): void {
    for (const { listener, factory } of this.factories.values()) {
      const values = listenerConfigValues(this.config, listener.name);
      const changed = tlsInputsOf(values) !== factory.settings.inputs;
      if (!changed && !filesModified(factory.settings)) continue;
      const next = this.check(listener, factory.settings, () => tlsSettingsOf(listener, values), values.value('ssl.allow.dn.changes'), values.value('ssl.allow.san.changes'));
      if (typeof next === 'string') continue;
      factory.reconfigure(next);
      this.logger.info({ listener: listener.name, subject: next.certificate.subject.replace(/\n/g, ', '), notAfter: next.certificate.validTo }, 'TLS settings of the listener reconfigured; new connections use them');
    }
  }

  /** The new settings, or the reason they may not replace the current ones (logged). */
  private check(listener: ListenerEndpoint, current: TlsSettings, make: () => TlsSettings, allowDn: string | null, allowSan: string | null): TlsSettings | string {
    let next;
    try {
      next = make();
    } catch (err) {
      this.logger.warn({ listener: listener.name, reason: (err as Error).message }, 'Validation of dynamic config update of SSLFactory failed');
      return (err as Error).message;
    }
    const problem = reconfigurationProblem(current, next, allowDn?.trim().toLowerCase() === 'true', allowSan?.trim().toLowerCase() === 'true');
    if (problem !== undefined) {
      this.logger.warn({ listener: listener.name, reason: problem }, 'Validation of dynamic config update of SSLFactory failed');
      return problem;
    }
    return next;
  }
}
