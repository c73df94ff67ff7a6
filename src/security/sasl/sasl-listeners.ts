/**
 * The broker's SASL listeners: the settings of each (sasl-listener-settings.ts, read at start), the SCRAM
 * credential store every SCRAM login reads, and the counts of authentications. It makes the SASL exchange
 * of each new connection on a SASL listener, and of each re-authentication (KIP-368).
 */
import type { Logger } from '../../logger.js';
import type { SaslExchange, Session } from '../../session.js';
import { SaslServerAuthenticator, type SaslListenerSettings } from './sasl-server-authenticator.js';
import { SaslStats } from './sasl-stats.js';

export class SaslListeners {
  readonly stats = new SaslStats();

  constructor(
    private readonly settings: ReadonlyMap<string, SaslListenerSettings>,
    private readonly logger: Logger,
  ) {
    for (const s of settings.values()) this.stats.init(s.listener, s.enabledMechanisms);
  }

  /** The exchange a new connection of SASL listener `session.listenerName` starts with. */
  authentication(session: Session, remote: string): SaslExchange {
    return SaslServerAuthenticator.authentication(session, this.contextOf(session, remote));
  }

  /** The exchange of a re-authentication of a ready session. */
  reauthentication(session: Session, remote: string): SaslExchange {
    return SaslServerAuthenticator.reauthentication(session, this.contextOf(session, remote));
  }

  private contextOf(session: Session, remote: string): { settings: SaslListenerSettings; stats: SaslStats; log: Logger; remote: string } {
    const settings = this.settings.get(session.listenerName);
    if (!settings) throw new Error(`listener ${session.listenerName} has no SASL settings`);
    return { settings, stats: this.stats, log: this.logger, remote };
  }
}
