/**
 * Counts of SASL authentications, for the metrics (gregor_sasl_authentications_total and
 * gregor_sasl_reauthentications_total): by listener, mechanism and result (success, failure), as Kafka's
 * successful-/failed-authentication-total and successful-/failed-reauthentication-total per listener. A
 * mechanism the client names that the broker does not know is counted as "unknown", so that clients cannot
 * make series of their own.
 */

export type SaslResult = 'success' | 'failure';

export interface SaslCount {
  readonly labels: { readonly listener: string; readonly mechanism: string; readonly result: SaslResult };
  value: number;
}

const KNOWN_MECHANISMS: ReadonlySet<string> = new Set(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI']);

export class SaslStats {
  private readonly authentications = new Map<string, SaslCount>();
  private readonly reauthentications = new Map<string, SaslCount>();

  /** Starts the series of a listener's mechanisms at 0 (so that a dashboard shows them before the first login). */
  init(listener: string, mechanisms: readonly string[]): void {
    for (const m of mechanisms) {
      for (const result of ['success', 'failure'] as const) {
        for (const reauthentication of [false, true]) this.series(listener, m, result, reauthentication);
      }
    }
  }

  /** One authentication (reauthentication: a re-authentication) ended with `result`. */
  record(listener: string, mechanism: string, result: SaslResult, reauthentication: boolean): void {
    this.series(listener, mechanism, result, reauthentication).value++;
  }

  private series(listener: string, mechanism: string, result: SaslResult, reauthentication: boolean): SaslCount {
    const m = KNOWN_MECHANISMS.has(mechanism) ? mechanism : 'unknown';
    const map = reauthentication ? this.reauthentications : this.authentications;
    const key = `${listener}\u0000${m}\u0000${result}`;
    let c = map.get(key);
    if (!c) {
      c = { labels: { listener, mechanism: m, result }, value: 0 };
      map.set(key, c);
    }
    return c;
  }

  authenticationCounts(): Iterable<SaslCount> {
    return this.authentications.values();
  }

  reauthenticationCounts(): Iterable<SaslCount> {
    return this.reauthentications.values();
  }

  /** The count of one series (tests). */
  count(listener: string, mechanism: string, result: SaslResult, reauthentication = false): number {
    return (reauthentication ? this.reauthentications : this.authentications).get(`${listener}\u0000${mechanism}\u0000${result}`)?.value ?? 0;
  }
}
