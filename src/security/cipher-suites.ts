/**
 * ssl.cipher.suites names, as Kafka's users write them (the IANA/Java names,
 * TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384), in OpenSSL's names for node:tls (ECDHE-RSA-AES256-GCM-SHA384).
 * TLS 1.3 suites have the same name in both (TLS_AES_256_GCM_SHA384); an OpenSSL name is taken as it is.
 * A name this Node's OpenSSL does not know is refused, as Java refuses an unsupported suite.
 */
import tls from 'node:tls';

const KEY_EXCHANGES: Readonly<Record<string, string>> = {
  ECDHE_ECDSA: 'ECDHE-ECDSA-',
  ECDHE_RSA: 'ECDHE-RSA-',
  DHE_RSA: 'DHE-RSA-',
  DHE_DSS: 'DHE-DSS-',
  RSA: '',
};

const IANA = /^TLS_([A-Z0-9_]+?)_WITH_(AES_(?:128|256)_(?:GCM|CBC|CCM(?:_8)?)|CHACHA20_POLY1305|ARIA_(?:128|256)_GCM|CAMELLIA_(?:128|256)_CBC)_(SHA384|SHA256|SHA)$/;

/** The OpenSSL name of one suite, or undefined when this Node's OpenSSL has no such suite. */
export function opensslCipherName(name: string): string | undefined {
  const known = new Set(tls.getCiphers());
  const trimmed = name.trim();
  if (known.has(trimmed.toLowerCase())) return trimmed;
  const m = IANA.exec(trimmed);
  if (!m) return undefined;
  const kx = KEY_EXCHANGES[m[1]!];
  if (kx === undefined) return undefined;
  const cipher = m[2]!;
  const mac = m[3]!;
  let body: string;
  if (cipher === 'CHACHA20_POLY1305') body = 'CHACHA20-POLY1305';
  else {
    const [family, bits, mode] = cipher.split('_') as [string, string, string];
    const base = `${family}${bits}`;
    body = mode === 'CBC' ? `${base}-${mac}` : `${base}-${cipher.slice(family.length + bits.length + 2).replace(/_/g, '-')}${mode === 'GCM' ? `-${mac}` : ''}`;
  }
  const openssl = `${kx}${body}`;
  return known.has(openssl.toLowerCase()) ? openssl : undefined;
}
