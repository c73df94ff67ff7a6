/**
 * The principal of a client certificate, as Kafka's DefaultKafkaPrincipalBuilder makes it: the subject in
 * RFC 2253 as Java's X500Principal.getName() writes it (certificates made with openssl; the expected texts
 * are Java 17's for the same certificates), mapped by ssl.principal.mapping.rules as Kafka's
 * SslPrincipalMapper maps it (the expected names are Kafka's for the same rules and names).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { subjectDistinguishedName } from '../../src/security/distinguished-name.js';
import { principalMappingRulesProblem, SslPrincipalMapper } from '../../src/security/ssl-principal-mapper.js';

describe('the subject of a certificate, in RFC 2253 as Java writes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gregor-dn-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  function subjectOf(subject: string): string {
    const out = join(dir, `c${n++}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', '/dev/null', '-out', out, '-days', '1', '-utf8', '-multivalue-rdn', '-subj', subject], { stdio: 'ignore' });
    return subjectDistinguishedName(new X509Certificate(readFileSync(out)).raw);
  }

  it('reverses the order of the names and escapes , + as RFC 2253 says', () => {
    expect(subjectOf('/C=US/ST=CA/L=Santa Clara/O=Acme, Inc./OU=R\\+D/CN=alice')).toBe('CN=alice,OU=R\\+D,O=Acme\\, Inc.,L=Santa Clara,ST=CA,C=US');
  });

  it('joins a multi-valued name with +, in the certificate\'s order', () => {
    expect(subjectOf('/CN=alice+UID=a1/O=Ex')).toBe('O=Ex,CN=alice+UID=a1');
  });

  it('writes attributes without an RFC 2253 keyword as their OID and the hex of their DER value (emailAddress)', () => {
    expect(subjectOf('/DC=com/DC=example/CN=x/emailAddress=a@b.c')).toBe('1.2.840.113549.1.9.1=#16056140622e63,CN=x,DC=example,DC=com');
    expect(subjectOf('/serialNumber=1234/title=Boss/CN=x/GN=Given/SN=Sur/street=Main St 1')).toBe(
      'STREET=Main St 1,2.5.4.4=#0c03537572,2.5.4.42=#0c05476976656e,CN=x,2.5.4.12=#0c04426f7373,2.5.4.5=#130431323334',
    );
  });

  it('escapes = ; < > " # \\ everywhere, and leading and trailing spaces; keeps other characters as they are', () => {
    expect(subjectOf('/CN=a=b;c<d>e"f#g/O=x')).toBe('O=x,CN=a\\=b\\;c\\<d\\>e\\"f\\#g');
    expect(subjectOf('/CN=#hash/O= lead and trail /OU=tab\there')).toBe('OU=tab\there,O=\\ lead and trail\\ ,CN=\\#hash');
    expect(subjectOf('/CN=x\\/y/O=back\\\\slash')).toBe('O=back\\\\slash,CN=x/y');
    expect(subjectOf('/CN=Ünïcødé 名前/O=Ex')).toBe('O=Ex,CN=Ünïcødé 名前');
  });
});

describe('ssl.principal.mapping.rules (Kafka\'s SslPrincipalMapper)', () => {
  const map = (rules: string, dn: string): string => new SslPrincipalMapper(rules).name(dn);
  const duke = 'CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US';

  it('DEFAULT gives the distinguished name itself', () => {
    expect(map('DEFAULT', duke)).toBe(duke);
    expect(new SslPrincipalMapper(null).name(duke)).toBe(duke);
  });

  it('applies the first rule whose pattern matches the whole name, with back references and L/U', () => {
    const rules = 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT';
    expect(map(rules, 'CN=kafka-server,OU=ServiceUsers,O=Org')).toBe('kafka-server');
    expect(map(rules, 'CN=bob,OU=eng')).toBe('CN=bob,OU=eng');
    expect(map('RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L', duke)).toBe('duke@javasoft');
    expect(map('RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/U', duke)).toBe('DUKE@JAVASOFT');
    expect(map('RULE:^CN=([^,]+).*$/$1/L, RULE:^OU=.*$/ou/, DEFAULT', 'OU=only')).toBe('ou');
    expect(map('  RULE:^CN=([^,]+).*$/$1/  ,  DEFAULT  ', 'CN=alice')).toBe('alice');
    expect(map('RULE:^CN=(?<name>[^,]+).*$/${name}/', 'CN=bob,OU=eng')).toBe('bob');
  });

  it('replaces every match of the pattern, as Java\'s replaceAll (an empty match at the end too)', () => {
    expect(map('RULE:.*/x/', 'abc')).toBe('xx');
    expect(map('RULE:[a-z]*/-/', 'abc')).toBe('--');
    expect(map('RULE:(CN)=(.*)/$2=$1/', 'CN=alice')).toBe('alice=CN');
  });

  it('takes a $n beyond the pattern\'s groups literally, cutting digits from the right first (Kafka\'s escapeLiteralBackReferences)', () => {
    expect(map('RULE:^CN=(.*?),OU=(.*?)$/$1-$3/', 'CN=bob,OU=eng')).toBe('bob-$3');
    expect(map('RULE:^CN=(.*?),OU=(.*?)$/$12/', 'CN=bob,OU=eng')).toBe('bob2');
    expect(map('RULE:^CN=(.*?),OU=(.*?)$/$21$1/', 'CN=bob,OU=eng')).toBe('eng1bob');
    expect(map('RULE:^(CN)=(x)(y)(z)(a)(b)(c)(d)(e)(f)(g)(h)$/$12-$11-$10-$123/', 'CN=xyzabcdefgh')).toBe('h-g-f-h3');
    expect(map('RULE:^CN=([^,]*),.*$/\\$1 and $1/', 'CN=bob,OU=eng')).toBe('$1 and bob');
    expect(map('RULE:^CN=(.*)$/a\\/b$1/', 'CN=alice')).toBe('a/balice');
  });

  it('fails when no rule applies, naming the rules', () => {
    expect(() => map('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/', 'OU=only')).toThrow('No rules apply to OU=only, rules [RULE:^CN=(.*?),OU=ServiceUsers.*$/$1]');
    expect(() => map('', 'CN=a')).toThrow('No rules apply to CN=a, rules []');
  });

  it('fails on a replacement Java cannot expand', () => {
    expect(() => map('RULE:^CN=(.*)$/$/', 'CN=alice')).toThrow('Illegal group reference: group index is missing');
    expect(() => map('RULE:^CN=(.*)$/${nope}/', 'CN=alice')).toThrow('No group with name {nope}');
    expect(() => map('RULE:^CN=(.*?),OU=(.*?)$/$1$2$3$4$5$6$7$8$9$10/', 'CN=bob,OU=eng')).toThrow('No group');
  });

  it('refuses invalid rules with Kafka\'s words (the config check at start)', () => {
    expect(principalMappingRulesProblem('RULE:x')).toBe('Invalid rule: `RULE:x`, unmatched substring: `RULE:x`');
    expect(principalMappingRulesProblem('FOO')).toBe('Invalid rule: `FOO`, unmatched substring: `FOO`');
    expect(principalMappingRulesProblem('RULE:^CN=([^,]+),.*$/$1/LX')).toBe('Invalid rule: `RULE:^CN=([^,]+),.*$/$1/LX`, unmatched substring: `X`');
    expect(principalMappingRulesProblem('RULE:^CN=(/x/')).toMatch(/^Invalid rule pattern \^CN=\(/);
    expect(principalMappingRulesProblem('RULE:^CN=([^,]+).*$/$1/,,DEFAULT')).toBeUndefined();
  });
});
