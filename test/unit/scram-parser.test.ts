/**
 * The `--add-scram` argument, in Kafka's syntax (KIP-900's ScramParser): a password and the same password
 * salted elsewhere give one credential; defaults and quoting as Kafka's; what is refused.
 */
import { describe, expect, it } from 'vitest';
import { saltedPassword } from '../../src/security/sasl/scram-formatter.js';
import { SCRAM_SHA_256, SCRAM_SHA_512 } from '../../src/security/sasl/scram-mechanism.js';
import { parseScramArgument, parseScramArguments } from '../../src/security/sasl/scram-parser.js';

describe('--add-scram argument', () => {
  it('gives the same credential for a password and for that password salted elsewhere (quoted base64)', () => {
    const salt = Buffer.from('fixed-salt');
    const salted = saltedPassword(SCRAM_SHA_512, 'alice-secret', salt, 8192).toString('base64');
    const fromPassword = parseScramArgument(`SCRAM-SHA-512=[name=alice,iterations=8192,salt="${salt.toString('base64')}",password=alice-secret]`);
    const fromSalted = parseScramArgument(`SCRAM-SHA-512=[name=alice,iterations=8192,salt="${salt.toString('base64')}",saltedpassword="${salted}"]`);
    expect(fromSalted).toEqual(fromPassword);
    expect(fromSalted.mechanism).toBe(SCRAM_SHA_512);
    expect(fromSalted.credential.salt).toEqual(salt);
  });

  it("defaults to 4096 iterations and a random salt, as Kafka's, and keeps no password", () => {
    const a = parseScramArgument('  SCRAM-SHA-256=[name=admin,password=admin-secret]  ');
    const b = parseScramArgument('SCRAM-SHA-256=[name=admin,password=admin-secret]');
    expect(a).toMatchObject({ name: 'admin', mechanism: SCRAM_SHA_256, credential: { iterations: 4096 } });
    expect(a.credential.salt.equals(b.credential.salt)).toBe(false);
    expect(JSON.stringify(a)).not.toContain('admin-secret');
  });

  it('refuses what Kafka refuses, and a user given twice for one mechanism', () => {
    const refused: Array<[string, RegExp]> = [
      ['SCRAM-SHA-256', /expected MECHANISM=\[/],
      ['SCRAM-SHA-256=[password=x]', /'name' is required/],
      ['SCRAM-SHA-256=[name=a,password=x,colour=blue]', /unknown SCRAM configurations: colour/],
      ['SCRAM-SHA-256=[name=a,saltedpassword=AAAA]', /'saltedpassword' needs 'salt'/],
      ['SCRAM-SHA-256=[name=a,salt=not*base64,password=x]', /'salt' is not valid base64/],
      ['SCRAM-SHA-256=[name=a,password=x,iterations=16385]', /'iterations' must be <= 16384/],
      ['SCRAM-SHA-256=[name=a,password=x,iterations=many]', /'iterations' is not an integer/],
    ];
    for (const [arg, message] of refused) expect(() => parseScramArgument(arg), arg).toThrow(message);
    expect(() => parseScramArguments(['SCRAM-SHA-256=[name=a,password=x]', 'SCRAM-SHA-256=[name=a,password=y]'])).toThrow("SCRAM-SHA-256 credential of user 'a' given twice");
    expect(parseScramArguments(['SCRAM-SHA-256=[name=a,password=x]', 'SCRAM-SHA-512=[name=a,password=x]'])).toHaveLength(2);
  });
});
