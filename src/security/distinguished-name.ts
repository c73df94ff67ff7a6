/**
 * A certificate's subject as Java's X500Principal.getName() writes it (RFC 2253), the text Kafka's
 * principal builder and ssl.principal.mapping.rules see ("CN=client,OU=eng,O=Example,C=US"). Read from the
 * certificate's DER bytes, so that the text is the same as Java's for the same certificate:
 *
 * 1. The relative distinguished names in reverse order (the most specific first), joined by ','; the
 *    values of a multi-valued one in their order in the certificate, joined by '+'.
 * 2. Each value as KEYWORD=value, with Java's RFC 2253 keywords: CN, C, L, ST, O, OU, STREET, DC, UID.
 *    Any other attribute is its object identifier in dotted form (emailAddress is
 *    1.2.840.113549.1.9.1), and its value '#' followed by the lower-case hex of its whole DER encoding; so
 *    is a keyword attribute whose value is not a string (Java's string types: PrintableString,
 *    T61String, IA5String, GeneralString, BMPString, UTF8String).
 * 3. A string value is its content bytes read as UTF-8 (as Java reads them, whatever the string type),
 *    with each of , = + < > # ; " \ preceded by '\', a NUL written \00, and leading and trailing spaces
 *    (and carriage returns) preceded by '\'.
 */

/** A DER element: its tag, where its content starts and ends, and where it ends with its header. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export class DerError extends Error {
  override readonly name = 'DerError';
}

function element(der: Uint8Array, at: number, limit = der.length): Element {
  if (at + 2 > limit) throw new DerError('truncated DER element');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let contentStart = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || contentStart + n > limit) throw new DerError('bad DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += n;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('truncated DER element');
  return { tag, start: at, contentStart, end };
}

/** The elements inside a constructed element. */
function children(der: Uint8Array, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const e = element(der, at, parent.end);
    out.push(e);
    at = e.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

/** Java's RFC 2253 keywords by object identifier. */
const KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** UTF8String, PrintableString, T61String, IA5String, GeneralString, BMPString. */
const STRING_TAGS: ReadonlySet<number> = new Set([0x0c, 0x13, 0x14, 0x16, 0x1b, 0x1e]);

const ESCAPED = new Set([',', '=', '+', '<', '>', '#', ';', '"', '\\']);

function objectIdentifier(der: Uint8Array, e: Element): string {
  if (e.tag !== OID || e.end === e.contentStart) throw new DerError('expected an object identifier');
  const arcs: number[] = [];
  let value = 0;
  for (let i = e.contentStart; i < e.end; i++) {
    const b = der[i]!;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

function hex(der: Uint8Array, from: number, to: number): string {
  return Buffer.from(der.subarray(from, to)).toString('hex');
}

/** One attribute value as Java's AVA.toRFC2253String writes it (rules 2 and 3). */
function attribute(der: Uint8Array, ava: Element): string {
  const [type, value] = children(der, ava);
  if (type === undefined || value === undefined || ava.tag !== SEQUENCE) throw new DerError('bad attribute');
  const oid = objectIdentifier(der, type);
  const keyword = KEYWORDS.get(oid);
  if (keyword === undefined || !STRING_TAGS.has(value.tag)) return `${keyword ?? oid}=#${hex(der, value.start, value.end)}`;
  const text = Buffer.from(der.subarray(value.contentStart, value.end)).toString('utf8');
  let escaped = '';
  for (const c of text) escaped += c === '\u0000' ? '\\00' : ESCAPED.has(c) ? `\\${c}` : c;
  const chars = [...escaped];
  let lead = 0;
  while (lead < chars.length && (chars[lead] === ' ' || chars[lead] === '\r')) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && (chars[trail] === ' ' || chars[trail] === '\r')) trail--;
  return `${keyword}=${chars.map((c, i) => (i < lead || i > trail ? `\\${c}` : c)).join('')}`;
}

/** An X.501 Name (SEQUENCE OF SET OF AttributeTypeAndValue) as RFC 2253 text (rule 1). */
function nameText(der: Uint8Array, name: Element): string {
  if (name.tag !== SEQUENCE) throw new DerError('expected a Name');
  const rdns = children(der, name).map((rdn) => {
    if (rdn.tag !== SET) throw new DerError('expected a relative distinguished name');
    return children(der, rdn)
      .map((ava) => attribute(der, ava))
      .join('+');
  });
  return rdns.reverse().join(',');
}

/** The subject Name element of a DER certificate. */
function subjectOf(der: Uint8Array): Element {
  const certificate = element(der, 0);
  const [tbs] = children(der, certificate);
  if (certificate.tag !== SEQUENCE || tbs === undefined || tbs.tag !== SEQUENCE) throw new DerError('not a certificate');
  const fields = children(der, tbs);
  // [0] version is optional; then serialNumber, signature, issuer, validity, subject
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  if (subject === undefined) throw new DerError('certificate without a subject');
  return subject;
}

/** The subject of a certificate (its DER bytes) as RFC 2253 text, as Java's X500Principal.getName(). */
export function subjectDistinguishedName(certificateDer: Uint8Array): string {
  return nameText(certificateDer, subjectOf(certificateDer));
}
