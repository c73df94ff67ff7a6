/**
 * Kafka's JAAS configuration syntax, as `sasl.jaas.config` values hold it
 * (Kafka's JaasConfig over Java's StreamTokenizer):
 *
 *   org.apache.kafka.common.security.plain.PlainLoginModule required
 *     user_admin="admin-secret" user_alice="alice-secret";
 *
 * One or more entries `<login module class> <control flag> (<key>=<value>)* ;`.
 * The tokenizer's rules, kept so that a value Kafka accepts is read the same
 * and one it refuses is refused here:
 * - whitespace separates tokens; `//`, `/* … *\/` and a lone `/` start
 *   comments (a lone `/` comments out the rest of its line);
 * - a word starts with a letter, `-`, `_`, `$` or a character from U+00A0 up,
 *   and goes on through those, digits and `.` (so a class name is one word);
 * - a token starting with a digit or `.` is a number, which has no text: an
 *   unquoted number is no value (`key=5000` is refused; Kafka wants "5000");
 * - `"…"` and `'…'` are quoted strings with Java's escapes (\n, \t, octal, …),
 *   ending at their quote or at the end of the line;
 * - any other character is a token of its own (`=`, `;`).
 * The control flag is required, requisite, sufficient or optional (any case).
 * Error messages name keys, never values: a value may be a password.
 */

export type LoginModuleControlFlag = 'REQUIRED' | 'REQUISITE' | 'SUFFICIENT' | 'OPTIONAL';

/** One login module entry (Java's AppConfigurationEntry). */
export interface JaasEntry {
  readonly loginModule: string;
  readonly controlFlag: LoginModuleControlFlag;
  readonly options: ReadonlyMap<string, string>;
}

/** A JAAS config that Kafka would refuse, with Kafka's message. */
export class JaasConfigError extends Error {
  override readonly name = 'JaasConfigError';
}

type Token = { kind: 'word'; text: string } | { kind: 'quoted'; text: string } | { kind: 'number' } | { kind: 'char'; char: string };

const FLAGS: ReadonlySet<string> = new Set(['REQUIRED', 'REQUISITE', 'SUFFICIENT', 'OPTIONAL']);

/** Parses a JAAS config value into its entries (at least one). */
export function parseJaasConfig(text: string): JaasEntry[] {
  const tokens = tokenize(text);
  let i = 0;
  const next = (): Token | undefined => tokens[i++];
  const entries: JaasEntry[] = [];
  for (let first = next(); first !== undefined; first = next()) {
    const loginModule = textOf(first);
    if (loginModule === undefined) throw new JaasConfigError('Login module class name not specified in JAAS config');
    const flagToken = next();
    if (flagToken === undefined) throw new JaasConfigError('Login module control flag not specified in JAAS config');
    const flag = textOf(flagToken);
    if (flag === undefined) throw new JaasConfigError('Login module control flag is not available in the JAAS config');
    if (!FLAGS.has(flag.toUpperCase())) throw new JaasConfigError(`Invalid login module control flag '${flag}' in JAAS config`);
    const options = new Map<string, string>();
    let t = next();
    for (; t !== undefined && !isChar(t, ';'); t = next()) {
      const key = textOf(t) ?? (t.kind === 'char' ? t.char : 'null');
      const eq = next();
      const value = eq !== undefined && isChar(eq, '=') ? next() : undefined;
      const valueText = value === undefined ? undefined : textOf(value);
      if (valueText === undefined) throw new JaasConfigError(`Value not specified for key '${key}' in JAAS config`);
      options.set(key, valueText);
    }
    if (t === undefined) throw new JaasConfigError('JAAS config entry not terminated by semi-colon');
    entries.push({ loginModule, controlFlag: flag.toUpperCase() as LoginModuleControlFlag, options });
  }
  if (entries.length === 0) throw new JaasConfigError('Login module not specified in JAAS config');
  return entries;
}

/**
 * The one entry of a `sasl.jaas.config` value, as Kafka's JaasContext requires for a broker's
 * listener-and-mechanism config.
 */
export function parseSingleJaasEntry(text: string): JaasEntry {
  const entries = parseJaasConfig(text);
  if (entries.length !== 1) throw new JaasConfigError(`JAAS config property contains ${entries.length} login modules, should be 1 module`);
  return entries[0]!;
}

function textOf(t: Token): string | undefined {
  return t.kind === 'word' || t.kind === 'quoted' ? t.text : undefined;
}

function isChar(t: Token, c: string): boolean {
  return t.kind === 'char' && t.char === c;
}

function isWordStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c >= 0xa0 || c === 0x2d || c === 0x5f || c === 0x24;
}

function isDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e;
}

/** Java's StreamTokenizer as Kafka's JaasConfig sets it up (see the top of this file). */
function tokenize(s: string): Token[] {
  const out: Token[] = [];
  const n = s.length;
  let i = 0;
  const skipLine = (): void => {
    while (i < n && s[i] !== '\n' && s[i] !== '\r') i++;
  };
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c <= 0x20) {
      i++;
      continue;
    }
    if (c === 0x2f) {
      // '/': "//" comment, "/*" comment, or a lone '/' (a comment character too): the rest of the line
      if (s[i + 1] === '*') {
        const end = s.indexOf('*/', i + 2);
        i = end < 0 ? n : end + 2;
      } else {
        skipLine();
      }
      continue;
    }
    if (isWordStart(c)) {
      const start = i;
      while (i < n && (isWordStart(s.charCodeAt(i)) || isDigit(s.charCodeAt(i)))) i++;
      out.push({ kind: 'word', text: s.slice(start, i) });
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      out.push({ kind: 'number' });
      continue;
    }
    if (c === 0x22 || c === 0x27) {
      const quote = s[i]!;
      i++;
      let text = '';
      while (i < n && s[i] !== quote && s[i] !== '\n' && s[i] !== '\r') {
        if (s[i] === '\\' && i + 1 < n) {
          const [ch, used] = escape(s, i + 1);
          text += ch;
          i += 1 + used;
        } else {
          text += s[i];
          i++;
        }
      }
      if (s[i] === quote) i++;
      out.push({ kind: 'quoted', text });
      continue;
    }
    out.push({ kind: 'char', char: s[i]! });
    i++;
  }
  return out;
}

const ESCAPES: Readonly<Record<string, string>> = { a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\u000b' };

/** The character a backslash escape at `at` stands for, and how many characters it used. */
function escape(s: string, at: number): [string, number] {
  const c = s[at]!;
  if (c >= '0' && c <= '7') {
    // octal: up to three digits, the first at most 3 when there are three
    let digits = c;
    const max = c <= '3' ? 3 : 2;
    while (digits.length < max && at + digits.length < s.length && s[at + digits.length]! >= '0' && s[at + digits.length]! <= '7') digits += s[at + digits.length];
    return [String.fromCharCode(parseInt(digits, 8)), digits.length];
  }
  return [ESCAPES[c] ?? c, 1];
}
