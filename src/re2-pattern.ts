/**
 * A regular expression in RE2 syntax, matched as RE2/J's
 * `Pattern.compile(regex).matcher(name).matches()`: the whole name must
 * match. Kafka matches a client's expression with RE2/J where a client sends
 * one: a consumer's SubscribedTopicRegex (KIP-848) and ListTransactions'
 * transactional id pattern (KIP-1152); this is what those need of it,
 * without a native add-on.
 *
 * Why not JS RegExp: it accepts what RE2 refuses (backreferences,
 * lookaround, possessive quantifiers), reads some of RE2's syntax otherwise
 * (`[[:alpha:]]`, `\Q..\E`, `(?i)`, `\z`), and backtracks: `(a+)+b` or
 * `a*a*a*a*a*b` against a 249-character topic name runs for minutes on the
 * event loop, and the expression comes from a client. Like RE2, this module parses the expression into a tree,
 * compiles it to an NFA and runs it as a set of states (Thompson's
 * simulation): the cost of one match is at most (name length + 1) × program
 * size, whatever the expression.
 *
 * 1. Parse (RE2's syntax, Perl flavour, as RE2/J): literals; `.`; classes
 *    `[...]` with ranges, `[:alpha:]`-style ASCII classes, `\d\w\s` and
 *    their negations, `\p{..}`/`\pL` Unicode classes; groups `(..)`,
 *    `(?:..)`, `(?P<name>..)`, `(?<name>..)`; flags `(?imsU)`, `(?i:..)`,
 *    `(?-i)`; repetition `* + ? {n} {n,} {n,m}` and their lazy forms;
 *    assertions `^ $ \A \z \b \B`; escapes `\Q..\E`, `\x41`, `\x{263a}`,
 *    octal `\012`, `\a\f\t\n\r\v`, any escaped punctuation.
 *    Refused with RE2's error strings: backreferences (`\1`), lookahead and
 *    lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), atomic groups (`(?>`),
 *    possessive and doubled quantifiers (`a*+`, `a**`), repeat counts over
 *    1000, unknown escapes (`\Z`, `\k`, `\e`), and the forms RE2 reads as
 *    errors (unbalanced parentheses, a quantifier with nothing to repeat).
 * 2. Bound: a program over MAX_PROGRAM_SIZE instructions ("expression too
 *    large", as RE2 has a size limit) or a nesting over MAX_NESTING
 *    ("expression nests too deeply") is refused, so a match costs at most
 *    250 × MAX_PROGRAM_SIZE steps for a topic name.
 * 3. Match: greediness does not change whether a whole match exists, so
 *    lazy and `U` only parse; captures are not kept.
 *
 * Differences left: the Unicode classes (`\pL`, `\p{Greek}`) are the tables
 * of the JS engine (RE2/J has its own Unicode version); case folding under
 * `(?i)` uses JS's simple lower/upper case mapping. Topic names are ASCII
 * (`[a-zA-Z0-9._-]`), so neither changes which topic matches.
 */

/** Kafka's RE2/J limit on a repeat count. */
const MAX_REPEAT = 1000;
/** The most instructions a compiled expression may have. */
export const MAX_PROGRAM_SIZE = 10_000;
/** The deepest nesting of groups and repetitions. */
const MAX_NESTING = 1000;

/** An expression RE2 refuses; `description` is RE2/J's PatternSyntaxException.getDescription(). */
export class PatternSyntaxError extends Error {
  constructor(
    readonly description: string,
    readonly fragment: string,
  ) {
    super(`error parsing regexp: ${description}: \`${fragment}\``);
    this.name = 'PatternSyntaxError';
  }
}

type CharTest = (cp: number) => boolean;
type AssertKind = 'bot' | 'eot' | 'bol' | 'eol' | 'wb' | 'nwb';

type Node =
  | { readonly k: 'empty' }
  | { readonly k: 'char'; readonly test: CharTest }
  | { readonly k: 'cat'; readonly items: readonly Node[] }
  | { readonly k: 'alt'; readonly items: readonly Node[] }
  | { readonly k: 'rep'; readonly node: Node; readonly min: number; readonly max: number }
  | { readonly k: 'assert'; readonly kind: AssertKind };

interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
}

const isDigit = (cp: number): boolean => cp >= 0x30 && cp <= 0x39;
const isWord = (cp: number): boolean => isDigit(cp) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
const isSpace = (cp: number): boolean => cp === 0x20 || (cp >= 0x09 && cp <= 0x0d && cp !== 0x0b);

/** The ASCII classes of `[[:name:]]`, as RE2. */
const POSIX: Readonly<Record<string, CharTest>> = {
  alnum: (c) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a),
  alpha: (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a),
  ascii: (c) => c <= 0x7f,
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c <= 0x1f || c === 0x7f,
  digit: isDigit,
  graph: (c) => c >= 0x21 && c <= 0x7e,
  lower: (c) => c >= 0x61 && c <= 0x7a,
  print: (c) => c >= 0x20 && c <= 0x7e,
  punct: (c) => (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => c >= 0x41 && c <= 0x5a,
  word: isWord,
  xdigit: (c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

const PERL: Readonly<Record<string, CharTest>> = {
  d: isDigit,
  D: (c) => !isDigit(c),
  w: isWord,
  W: (c) => !isWord(c),
  s: isSpace,
  S: (c) => !isSpace(c),
};

const not = (t: CharTest): CharTest => (c) => !t(c);

function folded(t: CharTest): CharTest {
  return (c) => {
    if (t(c)) return true;
    const s = String.fromCodePoint(c);
    const lower = s.toLowerCase().codePointAt(0)!;
    const upper = s.toUpperCase().codePointAt(0)!;
    return (lower !== c && t(lower)) || (upper !== c && t(upper));
  };
}

/** A Unicode class `\p{name}` through the JS engine's tables: a general category or a script, as RE2. */
function unicodeClass(name: string, fragment: string): CharTest {
  if (name === 'Any') return () => true;
  for (const source of [`^\\p{${name}}$`, `^\\p{Script=${name}}$`]) {
    let re: RegExp;
    try {
      re = new RegExp(source, 'u');
    } catch {
      continue;
    }
    return (c) => re.test(String.fromCodePoint(c));
  }
  throw new PatternSyntaxError('invalid character class range', fragment);
}

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly names = new Set<string>();

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation({ i: false, m: false, s: false });
    if (this.pos < this.src.length) throw new PatternSyntaxError('unexpected )', this.src);
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private nest(): void {
    if (++this.depth > MAX_NESTING) throw new PatternSyntaxError('expression nests too deeply', this.src);
  }

  /** `a|b|c` up to the end or a `)`. Flags set by `(?i)` last to the end of the enclosing group. */
  private alternation(flags: Flags): Node {
    const items: Node[] = [];
    const state = { flags };
    items.push(this.concatenation(state));
    while (this.peek() === '|') {
      this.pos++;
      items.push(this.concatenation(state));
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  private concatenation(state: { flags: Flags }): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      const start = this.pos;
      if (c === '*' || c === '+' || c === '?' || (c === '{' && this.repeatAt(this.pos) !== undefined)) {
        const end = c === '{' ? this.repeatAt(this.pos)!.end : this.pos + 1;
        throw new PatternSyntaxError('missing argument to repetition operator', this.src.slice(start, end));
      }
      const atom = this.atom(state);
      if (atom === null) continue;
      items.push(this.repetitions(atom, start));
    }
    if (items.length === 0) return { k: 'empty' };
    return items.length === 1 ? items[0]! : { k: 'cat', items };
  }

  /** `{n}`, `{n,}`, `{n,m}` at `at`, or undefined when it is not one (then `{` is a literal, as RE2). */
  private repeatAt(at: number): { min: number; max: number; end: number } | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(at, at + 32));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    return { min, max, end: at + m[0].length };
  }

  private repetitions(atom: Node, start: number): Node {
    let node = atom;
    let repeated = false;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      const opStart = this.pos;
      if (c === '*' || c === '+' || c === '?') {
        [min, max] = c === '*' ? [0, -1] : c === '+' ? [1, -1] : [0, 1];
        this.pos++;
      } else if (c === '{' && this.repeatAt(this.pos) !== undefined) {
        const r = this.repeatAt(this.pos)!;
        if (r.min > MAX_REPEAT || r.max > MAX_REPEAT || (r.max !== -1 && r.max < r.min)) {
          throw new PatternSyntaxError('invalid repeat count', this.src.slice(opStart, r.end));
        }
        ({ min, max } = r);
        this.pos = r.end;
      } else {
        return node;
      }
      if (this.peek() === '?') this.pos++; // lazy: the same set of whole matches
      if (repeated) throw new PatternSyntaxError('invalid nested repetition operator', this.src.slice(start, this.pos));
      repeated = true;
      node = { k: 'rep', node, min, max };
      // RE2 refuses a repetition right after a repetition (`a**`, `a*+`, `a{2}{3}`)
      const next = this.peek();
      if (next === '*' || next === '+' || next === '?' || (next === '{' && this.repeatAt(this.pos) !== undefined)) {
        const end = next === '{' ? this.repeatAt(this.pos)!.end : this.pos + 1;
        throw new PatternSyntaxError('invalid nested repetition operator', this.src.slice(opStart, end));
      }
    }
  }

  /** One atom; null for what matches nothing but changes flags (`(?i)`). */
  private atom(state: { flags: Flags }): Node | null {
    const flags = state.flags;
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.group(state);
      case '[':
        return this.charClass(flags);
      case '.':
        this.pos++;
        return { k: 'char', test: flags.s ? () => true : (cp) => cp !== 0x0a };
      case '^':
        this.pos++;
        return { k: 'assert', kind: flags.m ? 'bol' : 'bot' };
      case '$':
        this.pos++;
        return { k: 'assert', kind: flags.m ? 'eol' : 'eot' };
      case '\\':
        return this.escape(flags);
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return literal(cp, flags);
      }
    }
  }

  private group(state: { flags: Flags }): Node | null {
    const start = this.pos;
    this.pos++;
    let flags = state.flags;
    if (this.src.startsWith('?', this.pos)) {
      const rest = this.src.slice(this.pos);
      const named = /^\?P?<([A-Za-z0-9_]*)>/.exec(rest);
      if (named !== null && !rest.startsWith('?<=') && !rest.startsWith('?<!')) {
        const name = named[1]!;
        if (name === '') throw new PatternSyntaxError('invalid named capture', this.src.slice(start, this.pos + named[0].length));
        if (this.names.has(name)) throw new PatternSyntaxError('duplicate capture group name', name);
        this.names.add(name);
        this.pos += named[0].length;
      } else {
        const m = /^\?(-?[imsU]*|[imsU]+-[imsU]*)([:)])/.exec(rest);
        if (m === null || m[1] === '' || m[1] === '-' || m[1]!.endsWith('-')) {
          if (m !== null && m[1] === '' && m[2] === ':') {
            this.pos += 2; // (?:
          } else {
            const end = this.src.indexOf(')', this.pos);
            throw new PatternSyntaxError('invalid or unsupported Perl syntax', this.src.slice(start, end === -1 ? this.pos + 2 : Math.min(end + 1, this.pos + 3)));
          }
        } else {
          flags = applyFlags(flags, m[1]!);
          this.pos += m[0].length;
          if (m[2] === ')') {
            // (?flags): to the end of the enclosing group
            state.flags = flags;
            return null;
          }
        }
      }
    }
    this.nest();
    const node = this.alternation(flags);
    if (this.peek() !== ')') throw new PatternSyntaxError('missing closing )', this.src.slice(start));
    this.pos++;
    this.depth--;
    return node;
  }

  private escape(flags: Flags): Node {
    const start = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) throw new PatternSyntaxError('trailing backslash at end of expression', '');
    switch (c) {
      case 'A':
        this.pos += 2;
        return { k: 'assert', kind: 'bot' };
      case 'z':
        this.pos += 2;
        return { k: 'assert', kind: 'eot' };
      case 'b':
        this.pos += 2;
        return { k: 'assert', kind: 'wb' };
      case 'B':
        this.pos += 2;
        return { k: 'assert', kind: 'nwb' };
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos + 2);
        const text = this.src.slice(this.pos + 2, end === -1 ? undefined : end);
        this.pos = end === -1 ? this.src.length : end + 2;
        const items = [...text].map((ch) => literal(ch.codePointAt(0)!, flags));
        return items.length === 0 ? { k: 'empty' } : items.length === 1 ? items[0]! : { k: 'cat', items };
      }
      default: {
        const test = this.classEscape(start);
        return { k: 'char', test: flags.i ? folded(test) : test };
      }
    }
  }

  /** An escape that stands for characters (outside or inside a class), at `start` (the backslash). */
  private classEscape(start: number): CharTest {
    const c = this.src[start + 1];
    if (c === undefined) throw new PatternSyntaxError('trailing backslash at end of expression', '');
    const perl = PERL[c];
    if (perl !== undefined) {
      this.pos = start + 2;
      return perl;
    }
    if (c === 'p' || c === 'P') {
      const braced = /^\{\^?([A-Za-z_]+)\}/.exec(this.src.slice(start + 2));
      let name: string;
      let negate = c === 'P';
      let end: number;
      if (braced !== null) {
        name = braced[1]!;
        if (braced[0][1] === '^') negate = !negate;
        end = start + 2 + braced[0].length;
      } else {
        const one = this.src[start + 2];
        if (one === undefined || !/[A-Za-z]/.test(one)) throw new PatternSyntaxError('invalid character class range', this.src.slice(start, start + 3));
        name = one;
        end = start + 3;
      }
      const test = unicodeClass(name, this.src.slice(start, end));
      this.pos = end;
      return negate ? not(test) : test;
    }
    const cp = this.escapedChar(start);
    return (x) => x === cp;
  }

  /** The character an escape names (`\n`, `\x41`, `\x{263a}`, `\012`, `\.`), moving past it. */
  private escapedChar(start: number): number {
    const c = this.src[start + 1]!;
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (simple[c] !== undefined) {
      this.pos = start + 2;
      return simple[c];
    }
    if (c === 'x') {
      const m = /^(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2}))/.exec(this.src.slice(start + 2));
      const cp = m === null ? NaN : parseInt(m[1] ?? m[2]!, 16);
      if (m === null || cp > 0x10ffff) throw new PatternSyntaxError('invalid escape sequence', this.src.slice(start, start + 4));
      this.pos = start + 2 + m[0].length;
      return cp;
    }
    if (c >= '0' && c <= '7') {
      // octal: \0 and up to two more digits, or \1-\7 followed by an octal digit; a lone \1-\9 is a backreference
      const m = /^[0-7]{1,3}/.exec(this.src.slice(start + 1))![0];
      if (c !== '0' && m.length === 1) throw new PatternSyntaxError('invalid escape sequence', this.src.slice(start, start + 2));
      this.pos = start + 1 + m.length;
      return parseInt(m, 8);
    }
    const cp = c.codePointAt(0)!;
    if (cp < 0x80 && !/[A-Za-z0-9]/.test(c)) {
      this.pos = start + 2;
      return cp;
    }
    throw new PatternSyntaxError('invalid escape sequence', this.src.slice(start, start + 2));
  }

  private charClass(flags: Flags): Node {
    const start = this.pos;
    this.pos++;
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.pos++;
    }
    const tests: CharTest[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new PatternSyntaxError('missing closing ]', this.src.slice(start));
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix !== null) {
        const test = POSIX[posix[2]!];
        if (test === undefined) throw new PatternSyntaxError('invalid character class range', posix[0]);
        tests.push(posix[1] === '^' ? not(test) : test);
        this.pos += posix[0].length;
        continue;
      }
      const itemStart = this.pos;
      const lo = this.classChar();
      if (typeof lo !== 'number') {
        tests.push(lo);
        continue;
      }
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined) {
        this.pos++;
        const hi = this.classChar();
        if (typeof hi !== 'number' || hi < lo) throw new PatternSyntaxError('invalid character class range', this.src.slice(itemStart, this.pos));
        tests.push((x) => x >= lo && x <= hi);
      } else {
        tests.push((x) => x === lo);
      }
    }
    const any: CharTest = (x) => tests.some((t) => t(x));
    const test = flags.i ? folded(any) : any;
    return { k: 'char', test: negate ? not(test) : test };
  }

  /** A character of a class, or a class escape (`\d`, `\pL`). */
  private classChar(): number | CharTest {
    if (this.peek() === '\\') {
      const start = this.pos;
      const c = this.src[start + 1];
      if (c !== undefined && (PERL[c] !== undefined || c === 'p' || c === 'P')) return this.classEscape(start);
      return this.escapedChar(start);
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

function literal(cp: number, flags: Flags): Node {
  const test: CharTest = (x) => x === cp;
  return { k: 'char', test: flags.i ? folded(test) : test };
}

function applyFlags(flags: Flags, spec: string): Flags {
  let on = true;
  const next = { ...flags };
  for (const f of spec) {
    if (f === '-') on = false;
    else if (f === 'i' || f === 'm' || f === 's') next[f] = on;
    // U (ungreedy) does not change which names match
  }
  return next;
}

// ---- the program (a Thompson NFA) and its simulation

type Inst =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; next: number }
  | { op: 'assert'; kind: AssertKind; next: number }
  | { op: 'match' };

class Compiler {
  readonly prog: Inst[] = [];

  constructor(private readonly src: string) {}

  private emit(inst: Inst): number {
    if (this.prog.length >= MAX_PROGRAM_SIZE) throw new PatternSyntaxError('expression too large', this.src);
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  /** Emits `node` so that it continues at the instruction returned by `patch` (filled in later). */
  compile(node: Node): Array<(target: number) => void> {
    switch (node.k) {
      case 'empty':
        return [];
      case 'char': {
        const i = this.emit({ op: 'char', test: node.test, next: -1 });
        return [(t) => ((this.prog[i] as { next: number }).next = t)];
      }
      case 'assert': {
        const i = this.emit({ op: 'assert', kind: node.kind, next: -1 });
        return [(t) => ((this.prog[i] as { next: number }).next = t)];
      }
      case 'cat': {
        let holes: Array<(t: number) => void> = [];
        for (const item of node.items) {
          const at = this.prog.length;
          const next = this.compile(item);
          for (const h of holes) h(at);
          // an empty item leaves the previous holes open
          holes = this.prog.length === at ? holes.concat(next) : next;
        }
        return holes;
      }
      case 'alt': {
        let holes: Array<(t: number) => void> = [];
        for (let n = 0; n < node.items.length; n++) {
          if (n < node.items.length - 1) {
            const split = this.emit({ op: 'split', x: this.prog.length + 1, y: -1 });
            holes = holes.concat(this.compile(node.items[n]!));
            (this.prog[split] as { y: number }).y = this.prog.length;
          } else {
            holes = holes.concat(this.compile(node.items[n]!));
          }
        }
        return holes;
      }
      case 'rep': {
        let holes: Array<(t: number) => void> = [];
        const chain = (item: () => Array<(t: number) => void>): void => {
          const at = this.prog.length;
          const next = item();
          for (const h of holes) h(at);
          holes = this.prog.length === at ? holes.concat(next) : next;
        };
        for (let n = 0; n < node.min; n++) chain(() => this.compile(node.node));
        if (node.max === -1) {
          // x*: split(body, out); body jumps back to the split
          chain(() => {
            const split = this.emit({ op: 'split', x: this.prog.length + 1, y: -1 });
            for (const h of this.compile(node.node)) h(split);
            this.emit({ op: 'jmp', next: split });
            return [(t) => ((this.prog[split] as { y: number }).y = t)];
          });
        } else {
          // x{0,k}: k nested optionals
          const exits: Array<(t: number) => void> = [];
          for (let n = node.min; n < node.max; n++) {
            chain(() => {
              const split = this.emit({ op: 'split', x: this.prog.length + 1, y: -1 });
              exits.push((t) => ((this.prog[split] as { y: number }).y = t));
              return this.compile(node.node);
            });
          }
          holes = holes.concat(exits);
        }
        return holes;
      }
    }
  }
}

/** A compiled expression: `matches(name)` is RE2/J's `matcher(name).matches()`. */
export interface Re2Pattern {
  readonly source: string;
  matches(input: string): boolean;
}

/** Compiles an RE2 expression; throws PatternSyntaxError for what RE2/J refuses (see the top of the file). */
export function compileRe2(source: string): Re2Pattern {
  const ast = new Parser(source).parse();
  const compiler = new Compiler(source);
  const holes = compiler.compile(ast);
  const match = compiler.prog.length;
  compiler.prog.push({ op: 'match' });
  for (const h of holes) h(match);
  const prog = compiler.prog;
  return { source, matches: (input) => run(prog, input) };
}

function run(prog: readonly Inst[], input: string): boolean {
  const chars = [...input].map((ch) => ch.codePointAt(0)!);
  const mark = new Int32Array(prog.length).fill(-1);
  let gen = 0;
  let current: number[] = [];
  let next: number[] = [];
  const assertion = (kind: AssertKind, pos: number): boolean => {
    const before = pos > 0 ? chars[pos - 1]! : -1;
    const after = pos < chars.length ? chars[pos]! : -1;
    switch (kind) {
      case 'bot':
        return pos === 0;
      case 'eot':
        return pos === chars.length;
      case 'bol':
        return pos === 0 || before === 0x0a;
      case 'eol':
        return pos === chars.length || after === 0x0a;
      case 'wb':
        return (before !== -1 && isWord(before)) !== (after !== -1 && isWord(after));
      case 'nwb':
        return (before !== -1 && isWord(before)) === (after !== -1 && isWord(after));
    }
  };
  /** Adds `pc` and every state it reaches without reading a character, at `pos`. */
  const add = (list: number[], start: number, pos: number): void => {
    const stack = [start];
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const inst = prog[pc]!;
      switch (inst.op) {
        case 'jmp':
          stack.push(inst.next);
          break;
        case 'split':
          stack.push(inst.y, inst.x);
          break;
        case 'assert':
          if (assertion(inst.kind, pos)) stack.push(inst.next);
          break;
        default:
          list.push(pc);
      }
    }
  };
  add(current, 0, 0);
  for (let pos = 0; pos < chars.length && current.length > 0; pos++) {
    gen++;
    next.length = 0;
    const cp = chars[pos]!;
    for (const pc of current) {
      const inst = prog[pc]!;
      if (inst.op === 'char' && inst.test(cp)) add(next, inst.next, pos + 1);
    }
    [current, next] = [next, current];
  }
  return current.some((pc) => prog[pc]!.op === 'match');
}
