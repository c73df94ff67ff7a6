/**
 * ssl.principal.mapping.rules: from a client certificate's distinguished name (RFC 2253, as
 * distinguished-name.ts writes it) to the name of its principal, as Kafka's SslPrincipalMapper maps it.
 *
 * The rules are a comma-separated list, tried in order; the first that applies gives the name:
 * - `DEFAULT`: the distinguished name itself;
 * - `RULE:pattern/replacement/` with an optional `L` or `U` after the last slash (lower or upper case):
 *   applies when the pattern matches the whole name, which becomes the name with every match of the
 *   pattern replaced (Java's String.replaceAll: `$1` a group, `${name}` a named group, `\` escapes the next
 *   character). A `$n` naming a group the pattern does not have is taken literally (the digits are cut
 *   from the right first, `$12` being `$1` then `2` when there is no group 12), as Kafka does. A `/` or a
 *   `\` inside the pattern or the replacement is written `\/` or `\\`.
 * No rule applies: the mapping fails (Kafka's NoMatchingRule), and so does the connection. An empty
 * rule (two commas) is skipped; any other text is "Invalid rule".
 *
 * The rule list is split and parsed with Kafka's own regular expressions (RULE_SPLITTER, RULE_PARSER),
 * Java's `.` and `\s` spelt out as Java reads them. A rule's pattern is a JavaScript regular expression:
 * for the patterns rules use (classes, groups, quantifiers, anchors, named groups) it means what it
 * means in Java; Java-only syntax (possessive quantifiers, `\A`, `&&` in classes) is refused at start.
 */

/** Java's `.` without DOTALL: anything but its line terminators. */
const DOT = '[^\\n\\r\\u0085\\u2028\\u2029]';
/** Java's `\s`. */
const SPACE = '[ \\t\\n\\x0B\\f\\r]';
/** Kafka's RULE_PATTERN. */
const RULE_PATTERN = `(DEFAULT)|RULE:((\\\\.|[^\\\\/])*)/((\\\\.|[^\\\\/])*)/([LU]?)${DOT}*?|(${DOT}*?)`;
const RULE_SPLITTER = new RegExp(`${SPACE}*(${RULE_PATTERN})${SPACE}*(,${SPACE}*|$)`, 'g');
const RULE_PARSER = new RegExp(RULE_PATTERN, 'y');
const BACK_REFERENCE = /\$(\d+)/g;

export class SslPrincipalMappingError extends Error {
  override readonly name = 'SslPrincipalMappingError';
}

interface Rule {
  readonly text: string;
  apply(distinguishedName: string): string | undefined;
}

const DEFAULT_RULE: Rule = { text: 'DEFAULT', apply: (dn) => dn };

/** The mapping of `rules` (ssl.principal.mapping.rules); throws SslPrincipalMappingError for invalid rules. */
export class SslPrincipalMapper {
  private readonly rules: readonly Rule[];

  constructor(rules: string | null) {
    this.rules = parseRules(splitRules(rules ?? 'DEFAULT'));
  }

  /** The principal name of a distinguished name; throws SslPrincipalMappingError when no rule applies. */
  name(distinguishedName: string): string {
    for (const rule of this.rules) {
      const name = rule.apply(distinguishedName);
      if (name !== undefined) return name;
    }
    throw new SslPrincipalMappingError(`No rules apply to ${distinguishedName}, rules [${this.rules.map((r) => r.text).join(', ')}]`);
  }
}

/** Why `rules` cannot be parsed, or undefined (the config check). */
export function principalMappingRulesProblem(rules: string): string | undefined {
  try {
    new SslPrincipalMapper(rules);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Kafka's splitRules: the rule texts of a trimmed list (Java's find() loop; an empty match moves one on). */
function splitRules(rules: string): string[] {
  const text = rules.trim();
  const out: string[] = [];
  const splitter = new RegExp(RULE_SPLITTER.source, 'g');
  for (let m = splitter.exec(text); m !== null; m = splitter.exec(text)) {
    out.push(m[1]!);
    if (m[0] === '') splitter.lastIndex++;
    if (splitter.lastIndex > text.length) break;
  }
  return out;
}

function parseRules(texts: readonly string[]): Rule[] {
  const out: Rule[] = [];
  for (const text of texts) {
    RULE_PARSER.lastIndex = 0;
    const m = RULE_PARSER.exec(text);
    if (m === null) throw new SslPrincipalMappingError(`Invalid rule: ${text}`);
    if (m[0].length !== text.length) throw new SslPrincipalMappingError(`Invalid rule: \`${text}\`, unmatched substring: \`${text.slice(m[0].length)}\``);
    if (m[1] !== undefined) out.push(DEFAULT_RULE);
    else if (m[2] !== undefined) out.push(patternRule(m[2], m[4]!, m[6] === 'L' ? 'lower' : m[6] === 'U' ? 'upper' : undefined));
    // empty rules are ignored
  }
  return out;
}

function compile(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    throw new SslPrincipalMappingError(`Invalid rule pattern ${pattern}: ${(err as Error).message}`);
  }
}

function patternRule(pattern: string, replacement: string, caseChange: 'lower' | 'upper' | undefined): Rule {
  const every = compile(pattern, 'g');
  const whole = compile(`^(?:${pattern})$`, '');
  const groups = groupCount(pattern);
  const expanded = escapeLiteralBackReferences(replacement, groups);
  return {
    text: `RULE:${pattern}/${replacement}${caseChange === 'lower' ? '/L' : caseChange === 'upper' ? '/U' : ''}`,
    apply(dn) {
      if (!whole.test(dn)) return undefined;
      const result = javaReplaceAll(dn, every, expanded, groups);
      return caseChange === 'lower' ? result.toLowerCase() : caseChange === 'upper' ? result.toUpperCase() : result;
    },
  };
}

/** The number of capturing groups of a pattern. */
function groupCount(pattern: string): number {
  return new RegExp(`${pattern}|`).exec('')!.length - 1;
}

/**
 * Kafka's escapeLiteralBackReferences: a `$n` beyond the groups is cut to fewer digits while above 9, then
 * escaped if still beyond them. As in Kafka, the positions are those of the replacement as given, applied
 * to the text as escaped so far.
 */
function escapeLiteralBackReferences(unescaped: string, groups: number): string {
  if (groups === 0) return unescaped;
  let value = unescaped;
  for (const m of unescaped.matchAll(BACK_REFERENCE)) {
    const digits = m[1]!;
    if (digits.startsWith('0')) continue;
    let index = Number.parseInt(digits, 10);
    while (index > groups && index >= 10) index = Math.trunc(index / 10);
    if (index > groups) {
      const groupStart = m.index + 1;
      value = `${value.slice(0, groupStart - 1)}\\${value.slice(groupStart - 1)}`;
    }
  }
  return value;
}

/** Java's String.replaceAll(regex, replacement), with `every` the global pattern. */
function javaReplaceAll(text: string, every: RegExp, replacement: string, groups: number): string {
  let out = '';
  let from = 0;
  every.lastIndex = 0;
  for (let m = every.exec(text); m !== null; m = every.exec(text)) {
    out += text.slice(from, m.index) + expandReplacement(replacement, m, groups);
    from = m.index + m[0].length;
    if (m[0] === '') {
      if (every.lastIndex >= text.length) break;
      every.lastIndex++;
    }
  }
  return out + text.slice(from);
}

/** Java's Matcher.appendExpandedReplacement for one match. */
function expandReplacement(replacement: string, m: RegExpExecArray, groups: number): string {
  let out = '';
  for (let i = 0; i < replacement.length; ) {
    const c = replacement[i]!;
    if (c === '\\') {
      i++;
      if (i === replacement.length) throw new SslPrincipalMappingError('character to be escaped is missing');
      out += replacement[i]!;
      i++;
    } else if (c === '$') {
      i++;
      if (i === replacement.length) throw new SslPrincipalMappingError('Illegal group reference: group index is missing');
      if (replacement[i] === '{') {
        const end = replacement.indexOf('}', i);
        if (end < 0) throw new SslPrincipalMappingError("named capturing group is missing trailing '}'");
        const name = replacement.slice(i + 1, end);
        if (m.groups === undefined || !(name in m.groups)) throw new SslPrincipalMappingError(`No group with name {${name}}`);
        out += m.groups[name] ?? '';
        i = end + 1;
        continue;
      }
      let ref = replacement.charCodeAt(i) - 48;
      if (ref < 0 || ref > 9) throw new SslPrincipalMappingError('Illegal group reference');
      i++;
      // the largest group number the digits make
      while (i < replacement.length) {
        const digit = replacement.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9 || ref * 10 + digit > groups) break;
        ref = ref * 10 + digit;
        i++;
      }
      if (ref > groups) throw new SslPrincipalMappingError(`No group ${ref}`);
      out += m[ref] ?? '';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
