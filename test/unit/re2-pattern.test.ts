import { describe, expect, it } from 'vitest';
import { compileRe2, MAX_PROGRAM_SIZE, PatternSyntaxError } from '../../src/re2-pattern.js';

function matches(pattern: string, name: string): boolean {
  return compileRe2(pattern).matches(name);
}

function refusal(pattern: string): string | undefined {
  try {
    compileRe2(pattern);
    return undefined;
  } catch (err) {
    if (err instanceof PatternSyntaxError) return err.description;
    throw err;
  }
}

describe('RE2/J matches(): the whole topic name must match', () => {
  it('a prefix pattern matches the names that start with it, and only those', () => {
    expect(matches('orders.*', 'orders-eu')).toBe(true);
    expect(matches('orders.*', 'orders')).toBe(true);
    expect(matches('orders.*', 'my-orders')).toBe(false);
    expect(matches('^prefix.*', 'prefix-1')).toBe(true);
    expect(matches('^prefix.*$', 'xprefix-1')).toBe(false);
  });

  it('a pattern that matches part of a name does not match the name (matches, not find)', () => {
    expect(matches('orders', 'orders-eu')).toBe(false);
    expect(matches('eu', 'orders-eu')).toBe(false);
    expect(matches('a|ab', 'ab')).toBe(true);
    expect(matches('(a|ab)(c|bcd)', 'abcd')).toBe(true);
  });

  it('classes, escapes, counted repetition and alternation', () => {
    expect(matches('t[0-9]{2,3}', 't12')).toBe(true);
    expect(matches('t[0-9]{2,3}', 't1')).toBe(false);
    expect(matches('t[0-9]{2,3}', 't1234')).toBe(false);
    expect(matches('t\\d+\\.v\\w', 't42.v_')).toBe(true);
    expect(matches('[^.]+', 'a.b')).toBe(false);
    expect(matches('(eu|us)-(a|b)', 'us-b')).toBe(true);
    expect(matches('x{2}', 'xx')).toBe(true);
    expect(matches('a{,2}', 'a{,2}')).toBe(true); // not a repeat: literal, as RE2
    expect(matches('a\\-b\\.c', 'a-b.c')).toBe(true);
    expect(matches('\\x41\\x{42}\\103', 'ABC')).toBe(true);
    expect(matches('\\Qa.b\\E.', 'a.bc')).toBe(true);
    expect(matches('\\Qa.b\\E', 'axb')).toBe(false);
    expect(matches('[[:digit:]]+-[[:^alpha:]]', '12-_')).toBe(true);
    expect(matches('[[:upper:]]', 'a')).toBe(false);
    expect(matches('\\pL+', 'topic')).toBe(true);
    expect(matches('\\p{Greek}', 'a')).toBe(false);
    expect(matches('\\PN+', 'abc')).toBe(true);
  });

  it('flags: (?i) for the rest of the group, (?i:...) for a part', () => {
    expect(matches('(?i)orders', 'ORDERS')).toBe(true);
    expect(matches('(?i:or)ders', 'ORders')).toBe(true);
    expect(matches('(?i:or)ders', 'ORDERS')).toBe(false);
    expect(matches('(a(?i)b)c', 'aBc')).toBe(true);
    expect(matches('(a(?i)b)c', 'aBC')).toBe(false);
    expect(matches('(?i)[a-c]+', 'AbC')).toBe(true);
    expect(matches('(?s:.)', '\n')).toBe(true);
    expect(matches('.', '\n')).toBe(false);
    expect(matches('(?U)a+', 'aaa')).toBe(true);
  });

  it('assertions: ^ $ \\A \\z \\b \\B', () => {
    expect(matches('\\Aab\\z', 'ab')).toBe(true);
    expect(matches('a\\b-b', 'a-b')).toBe(true);
    expect(matches('a\\Bb', 'ab')).toBe(true);
    expect(matches('a\\bb', 'ab')).toBe(false);
    expect(matches('a^b', 'ab')).toBe(false);
  });

  it('named groups and lazy quantifiers parse and match', () => {
    expect(matches('(?P<region>eu|us)-.*?', 'eu-1')).toBe(true);
    expect(matches('(?<region>eu|us)-.+', 'us-1')).toBe(true);
    expect(matches('', '')).toBe(true);
    expect(matches('', 'a')).toBe(false);
    expect(matches('a*', '')).toBe(true);
    expect(matches('(a*)*b', 'aab')).toBe(true);
    expect(matches('(|a)+', 'aa')).toBe(true);
  });
});

describe('RE2/J refuses what JS RegExp accepts', () => {
  it.each([
    ['(a)\\1', 'invalid escape sequence'],
    ['a(?=b)', 'invalid or unsupported Perl syntax'],
    ['a(?!b)', 'invalid or unsupported Perl syntax'],
    ['(?<=a)b', 'invalid or unsupported Perl syntax'],
    ['(?<!a)b', 'invalid or unsupported Perl syntax'],
    ['(?>a+)b', 'invalid or unsupported Perl syntax'],
    ['(?#comment)a', 'invalid or unsupported Perl syntax'],
    ['a*+', 'invalid nested repetition operator'],
    ['a++', 'invalid nested repetition operator'],
    ['a**', 'invalid nested repetition operator'],
    ['a{2}{3}', 'invalid nested repetition operator'],
    ['a{1001}', 'invalid repeat count'],
    ['a{3,2}', 'invalid repeat count'],
    ['\\Z', 'invalid escape sequence'],
    ['\\k<a>', 'invalid escape sequence'],
    ['\\e', 'invalid escape sequence'],
    ['\\u0041', 'invalid escape sequence'],
    ['\\cA', 'invalid escape sequence'],
    ['*a', 'missing argument to repetition operator'],
    ['a|*', 'missing argument to repetition operator'],
    ['(a', 'missing closing )'],
    ['a)', 'unexpected )'],
    ['[a', 'missing closing ]'],
    ['[z-a]', 'invalid character class range'],
    ['[[:alphabet:]]', 'invalid character class range'],
    ['(?P<n>a)(?P<n>b)', 'duplicate capture group name'],
    ['a\\', 'trailing backslash at end of expression'],
  ])('%s: %s', (pattern, description) => {
    expect(refusal(pattern)).toBe(description);
  });

  it('the message has RE2/J form', () => {
    expect(() => compileRe2('(a)\\1')).toThrow('error parsing regexp: invalid escape sequence: `\\1`');
  });
});

describe('cost is bounded: no backtracking', () => {
  it('patterns that make a backtracking engine explode match a 249-character name at once', () => {
    const name = `${'a'.repeat(248)}!`;
    const started = Date.now();
    for (const pattern of ['(a+)+b', '(a|a)*b', 'a*a*a*a*a*a*a*a*b', '(a*)*b', '(?:a|aa)+b']) {
      expect(matches(pattern, name)).toBe(false);
      expect(matches(pattern.replace(/b$/, '!'), name)).toBe(true);
    }
    // a generous bound: a backtracking engine takes minutes here
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it(`a program over ${MAX_PROGRAM_SIZE} instructions is refused, as RE2 refuses an expression too large`, () => {
    expect(refusal('(a{1000}){1000}')).toBe('expression too large');
    expect(refusal('a{1000}')).toBeUndefined();
  });

  it('deep nesting is refused', () => {
    expect(refusal(`${'('.repeat(1500)}a${')'.repeat(1500)}`)).toBe('expression nests too deeply');
  });
});
