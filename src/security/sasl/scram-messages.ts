/**
 * SCRAM's messages as Kafka's ScramMessages reads and writes them (RFC 5802
 * section 7, with Kafka's limits):
 *
 *   client-first  n,[a=<authzid>],[m=<reserved>,]n=<saslname>,r=<nonce>[,<ext>=<value>]*
 *   server-first  r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>
 *   client-final  c=<base64 channel binding>,r=<nonce>[,<ext>=<value>]*,p=<base64 proof>
 *   server-final  v=<base64 server signature>
 *
 * Only the gs2 header "n" (no channel binding) is accepted; characters are
 * ASCII (a saslname escapes "=" and "," as =3D and =2C); extensions are
 * `<letters>=<value>`, and the only one the server acts on is `tokenauth`.
 * The client-first-message-bare that enters the AuthMessage is rebuilt from
 * the parsed parts, as Kafka does (a reserved `m=` part is dropped).
 */

/** [\x01-\x7F] without "=" and ",". */
const VALUE_SAFE_CHAR = '[\\x01-\\x2B\\x2D-\\x3C\\x3E-\\x7F]';
/** [\x01-\x7F] without ",". */
const VALUE = '[\\x01-\\x2B\\x2D-\\x7F]+';
/** [\x21-\x7E] without ",". */
const PRINTABLE = '[\\x21-\\x2B\\x2D-\\x7E]+';
const SASLNAME = `(?:${VALUE_SAFE_CHAR}|=2C|=3D)+`;
const B64 = '[a-zA-Z0-9/+]';
const BASE64 = `(?:${B64}{4})*(?:${B64}{3}=|${B64}{2}==)?`;
const RESERVED = `(?:m=${VALUE},)?`;
const EXTENSIONS = `(?:,[A-Za-z]+=${VALUE})*`;

const CLIENT_FIRST = new RegExp(`^n,(?:a=(?<authzid>${SASLNAME}))?,${RESERVED}n=(?<saslname>${SASLNAME}),r=(?<nonce>${PRINTABLE})(?<extensions>${EXTENSIONS})$`);
const CLIENT_FINAL = new RegExp(`^c=(?<channel>${BASE64}),r=(?<nonce>${PRINTABLE})${EXTENSIONS},p=(?<proof>${BASE64})$`);

export interface ClientFirstMessage {
  /** The authorization id of the gs2 header ("" when absent). */
  readonly authorizationId: string;
  readonly saslName: string;
  readonly nonce: string;
  /** Extensions in their order (Kafka's ScramExtensions). */
  readonly extensions: ReadonlyMap<string, string>;
}

export interface ClientFinalMessage {
  readonly channelBinding: Buffer;
  readonly nonce: string;
  readonly proof: Buffer;
}

export interface ServerFirstMessage {
  /** Client nonce followed by server nonce. */
  readonly nonce: string;
  readonly salt: Buffer;
  readonly iterations: number;
}

/** The client-first message, or undefined when it is not of the accepted form. */
export function parseClientFirst(bytes: Buffer): ClientFirstMessage | undefined {
  const m = CLIENT_FIRST.exec(bytes.toString('utf8'));
  if (!m?.groups) return undefined;
  const extensions = new Map<string, string>();
  const ext = m.groups['extensions']!;
  if (ext.startsWith(',')) {
    for (const pair of ext.slice(1).split(',')) {
      const eq = pair.indexOf('=');
      extensions.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  return { authorizationId: m.groups['authzid'] ?? '', saslName: m.groups['saslname']!, nonce: m.groups['nonce']!, extensions };
}

/** client-first-message-bare as the AuthMessage takes it (rebuilt from the parts, as Kafka). */
export function clientFirstBare(m: ClientFirstMessage): string {
  let out = `n=${m.saslName},r=${m.nonce}`;
  for (const [k, v] of m.extensions) out += `,${k}=${v}`;
  return out;
}

/** The client-final message, or undefined when it is not of the accepted form. */
export function parseClientFinal(bytes: Buffer): ClientFinalMessage | undefined {
  const m = CLIENT_FINAL.exec(bytes.toString('utf8'));
  if (!m?.groups) return undefined;
  return { channelBinding: Buffer.from(m.groups['channel']!, 'base64'), nonce: m.groups['nonce']!, proof: Buffer.from(m.groups['proof']!, 'base64') };
}

/** client-final-message-without-proof as the AuthMessage takes it (rebuilt, as Kafka). */
export function clientFinalWithoutProof(m: Pick<ClientFinalMessage, 'channelBinding' | 'nonce'>): string {
  return `c=${m.channelBinding.toString('base64')},r=${m.nonce}`;
}

export function serverFirstText(m: ServerFirstMessage): string {
  return `r=${m.nonce},s=${m.salt.toString('base64')},i=${m.iterations}`;
}

export function serverFinalText(serverSignature: Buffer): string {
  return `v=${serverSignature.toString('base64')}`;
}
