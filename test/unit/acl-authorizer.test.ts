/**
 * The decision rules of the standard authorizer (Kafka's StandardAuthorizerData and
 * Authorizer.authorizeByResourceType), on the pure functions: which ACLs apply to a resource (LITERAL,
 * "*", PREFIXED), principal and host matching (User:* and "*"), implied operations for ALLOW only, deny
 * overriding allow, super users, allow.everyone.if.no.acl.found and the "ACLs exist for the resource"
 * refusal; ACL filters (DescribeAcls/DeleteAcls matching, MATCH included); the checks of new ACLs; and the
 * client address in Java's form.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/broker-config.js';
import { describeBrokerConfigEntries } from '../../src/config/describe-configs.js';
import { filterMatches, filterProblem, newAclProblem, type AclBinding, type AclBindingFilter } from '../../src/security/acl/acl-binding.js';
import { hostAddressOf, operationsBitField, type AclOperation, type ResourceType } from '../../src/security/acl/acl-types.js';
import { authorizerConfigured, superUsersOf } from '../../src/security/acl/standard-authorizer.js';
import { authorizeByResourceType, findRule, indexAcls, ruleAllows, type AuthorizerRules } from '../../src/security/acl/standard-authorizer-data.js';
import type { KafkaPrincipal } from '../../src/session.js';

const ALICE: KafkaPrincipal = { principalType: 'User', name: 'alice' };
const BOB: KafkaPrincipal = { principalType: 'User', name: 'bob' };
const HOST = '10.0.0.1';
const RULES: AuthorizerRules = { superUsers: new Set(), allowEveryoneIfNoAclFound: false };

function acl(over: Partial<AclBinding>): AclBinding {
  return { resourceType: 'TOPIC', resourceName: 'orders', patternType: 'LITERAL', principal: 'User:alice', host: '*', operation: 'READ', permissionType: 'ALLOW', ...over };
}

function decide(acls: AclBinding[], op: AclOperation, resourceType: ResourceType, name: string, opts: { who?: KafkaPrincipal; host?: string; rules?: AuthorizerRules } = {}): boolean {
  return ruleAllows(findRule(indexAcls(acls), opts.rules ?? RULES, opts.who ?? ALICE, opts.host ?? HOST, op, resourceType, name));
}

describe('standard authorizer decisions', () => {
  it('refuses by default, allows everyone when allow.everyone.if.no.acl.found and no ACL applies', () => {
    expect(decide([], 'READ', 'TOPIC', 'orders')).toBe(false);
    expect(decide([], 'READ', 'TOPIC', 'orders', { rules: { ...RULES, allowEveryoneIfNoAclFound: true } })).toBe(true);
    // an ACL of another topic does not apply: still the default
    expect(decide([acl({ resourceName: 'payments' })], 'READ', 'TOPIC', 'orders', { rules: { ...RULES, allowEveryoneIfNoAclFound: true } })).toBe(true);
  });

  it('refuses when ACLs apply to the resource but none matches, even with allow.everyone.if.no.acl.found', () => {
    const everyone = { ...RULES, allowEveryoneIfNoAclFound: true };
    expect(decide([acl({ principal: 'User:bob' })], 'READ', 'TOPIC', 'orders', { rules: everyone })).toBe(false);
    expect(decide([acl({ operation: 'WRITE' })], 'READ', 'TOPIC', 'orders', { rules: everyone })).toBe(false);
    expect(decide([acl({ host: '10.0.0.2' })], 'READ', 'TOPIC', 'orders', { rules: everyone })).toBe(false);
  });

  it('allows super users anything, DENY ACLs notwithstanding', () => {
    const superAlice = { ...RULES, superUsers: new Set(['User:alice']) };
    expect(decide([acl({ operation: 'ALL', permissionType: 'DENY' })], 'WRITE', 'TOPIC', 'orders', { rules: superAlice })).toBe(true);
    expect(decide([], 'ALTER', 'CLUSTER', 'kafka-cluster', { rules: superAlice })).toBe(true);
    expect(decide([], 'ALTER', 'CLUSTER', 'kafka-cluster', { rules: superAlice, who: BOB })).toBe(false);
  });

  it('applies LITERAL ACLs to their name only, "*" to every name, PREFIXED ACLs to names that start with them', () => {
    expect(decide([acl({ resourceName: 'orders' })], 'READ', 'TOPIC', 'orders')).toBe(true);
    expect(decide([acl({ resourceName: 'orders' })], 'READ', 'TOPIC', 'orders-eu')).toBe(false);
    expect(decide([acl({ resourceName: 'ord' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    expect(decide([acl({ resourceName: '*' })], 'READ', 'TOPIC', 'anything')).toBe(true);
    expect(decide([acl({ resourceName: 'ord', patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'orders')).toBe(true);
    expect(decide([acl({ resourceName: 'orders', patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'orders')).toBe(true);
    expect(decide([acl({ resourceName: 'orders-', patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    // a PREFIXED "*" is a prefix like any other, not a wildcard
    expect(decide([acl({ resourceName: '*', patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    // one resource type's ACLs say nothing of another's
    expect(decide([acl({ resourceType: 'GROUP' })], 'READ', 'TOPIC', 'orders')).toBe(false);
  });

  it('finds a prefix among many PREFIXED ACLs, and one of many prefixes of a long name', () => {
    const many = Array.from({ length: 50 }, (_, i) => acl({ resourceName: `team-${i}-`, patternType: 'PREFIXED', permissionType: 'DENY' }));
    expect(decide([...many, acl({ resourceName: 'o', patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'orders')).toBe(true);
    expect(decide([...many, acl({ resourceName: 'o', patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'team-7-orders')).toBe(false);
    expect(decide([acl({ resourceName: 'a'.repeat(100), patternType: 'PREFIXED' })], 'READ', 'TOPIC', 'a'.repeat(200))).toBe(true);
  });

  it('matches the principal or User:*, and the host or "*"', () => {
    expect(decide([acl({ principal: 'User:*' })], 'READ', 'TOPIC', 'orders', { who: BOB })).toBe(true);
    expect(decide([acl({ principal: 'User:alice' })], 'READ', 'TOPIC', 'orders', { who: BOB })).toBe(false);
    // the wildcard is the User type's only
    expect(decide([acl({ principal: 'Group:*' })], 'READ', 'TOPIC', 'orders', { who: { principalType: 'Group', name: 'ops' } })).toBe(false);
    expect(decide([acl({ principal: 'Group:ops' })], 'READ', 'TOPIC', 'orders', { who: { principalType: 'Group', name: 'ops' } })).toBe(true);
    expect(decide([acl({ host: HOST })], 'READ', 'TOPIC', 'orders')).toBe(true);
    expect(decide([acl({ host: '10.0.0.2' })], 'READ', 'TOPIC', 'orders')).toBe(false);
  });

  it('lets ALLOW ACLs of READ, WRITE, DELETE and ALTER imply DESCRIBE, and ALTER_CONFIGS imply DESCRIBE_CONFIGS', () => {
    for (const op of ['READ', 'WRITE', 'DELETE', 'ALTER', 'DESCRIBE'] as const) expect(decide([acl({ operation: op })], 'DESCRIBE', 'TOPIC', 'orders'), op).toBe(true);
    expect(decide([acl({ operation: 'CREATE' })], 'DESCRIBE', 'TOPIC', 'orders')).toBe(false);
    expect(decide([acl({ operation: 'ALTER_CONFIGS' })], 'DESCRIBE_CONFIGS', 'TOPIC', 'orders')).toBe(true);
    expect(decide([acl({ operation: 'ALTER_CONFIGS' })], 'ALTER', 'TOPIC', 'orders')).toBe(false);
    // READ does not imply WRITE, nor DESCRIBE imply READ
    expect(decide([acl({ operation: 'READ' })], 'WRITE', 'TOPIC', 'orders')).toBe(false);
    expect(decide([acl({ operation: 'DESCRIBE' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    // ALL is every operation
    expect(decide([acl({ operation: 'ALL' })], 'IDEMPOTENT_WRITE', 'CLUSTER', 'orders')).toBe(false);
    expect(decide([acl({ resourceType: 'CLUSTER', resourceName: 'kafka-cluster', operation: 'ALL' })], 'IDEMPOTENT_WRITE', 'CLUSTER', 'kafka-cluster')).toBe(true);
  });

  it('does not let a DENY imply anything: DENY READ leaves DESCRIBE allowed', () => {
    const acls = [acl({ operation: 'ALL' }), acl({ operation: 'READ', permissionType: 'DENY' })];
    expect(decide(acls, 'READ', 'TOPIC', 'orders')).toBe(false);
    expect(decide(acls, 'DESCRIBE', 'TOPIC', 'orders')).toBe(true);
  });

  it('lets DENY override ALLOW, wherever each comes from', () => {
    expect(decide([acl({}), acl({ permissionType: 'DENY' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    expect(decide([acl({ resourceName: 'ord', patternType: 'PREFIXED' }), acl({ resourceName: 'orders', permissionType: 'DENY' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    expect(decide([acl({}), acl({ resourceName: '*', principal: 'User:*', permissionType: 'DENY' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    expect(decide([acl({}), acl({ resourceName: 'o', patternType: 'PREFIXED', operation: 'ALL', host: HOST, permissionType: 'DENY' })], 'READ', 'TOPIC', 'orders')).toBe(false);
    // a DENY for another host does not
    expect(decide([acl({}), acl({ host: '10.9.9.9', permissionType: 'DENY' })], 'READ', 'TOPIC', 'orders')).toBe(true);
  });

  it('answers authorizeByResourceType as Kafka: probe name, wildcard and prefixes, denied prefixes dominating', () => {
    const byType = (acls: AclBinding[], rules: AuthorizerRules = RULES) => authorizeByResourceType(indexAcls(acls), rules, ALICE, HOST, 'WRITE', 'TOPIC');
    expect(byType([])).toBe(false);
    expect(byType([], { ...RULES, allowEveryoneIfNoAclFound: true })).toBe(true);
    expect(byType([], { ...RULES, superUsers: new Set(['User:alice']) })).toBe(true);
    expect(byType([acl({ operation: 'WRITE' })])).toBe(true);
    expect(byType([acl({ operation: 'READ' })])).toBe(false);
    expect(byType([acl({ operation: 'ALL', resourceName: 'o', patternType: 'PREFIXED' })])).toBe(true);
    expect(byType([acl({ operation: 'WRITE' }), acl({ operation: 'WRITE', permissionType: 'DENY' })])).toBe(false);
    expect(byType([acl({ operation: 'WRITE' }), acl({ operation: 'WRITE', resourceName: 'ord', patternType: 'PREFIXED', permissionType: 'DENY' })])).toBe(false);
    expect(byType([acl({ operation: 'WRITE', resourceName: 'orders', patternType: 'PREFIXED' }), acl({ operation: 'WRITE', resourceName: 'orders-x', patternType: 'PREFIXED', permissionType: 'DENY' })])).toBe(true);
    expect(byType([acl({ operation: 'WRITE', resourceName: '*' })])).toBe(true);
    expect(byType([acl({ operation: 'WRITE', resourceName: '*' }), acl({ operation: 'WRITE', resourceName: '*', permissionType: 'DENY' })])).toBe(false);
    // no implied operations here
    expect(authorizeByResourceType(indexAcls([acl({ operation: 'WRITE', resourceName: 'x' })]), RULES, ALICE, HOST, 'DESCRIBE', 'TOPIC')).toBe(false);
  });
});

describe('ACL filters and checks', () => {
  const any: AclBindingFilter = { resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permissionType: 'ANY' };

  it('matches as Kafka\'s AclBindingFilter: ANY, names, MATCH of literal, wildcard and prefixes', () => {
    const literal = acl({});
    const prefixed = acl({ resourceName: 'ord', patternType: 'PREFIXED' });
    const wildcard = acl({ resourceName: '*' });
    expect([literal, prefixed, wildcard].every((a) => filterMatches(any, a))).toBe(true);
    const match: AclBindingFilter = { ...any, resourceType: 'TOPIC', resourceName: 'orders', patternType: 'MATCH' };
    expect([literal, prefixed, wildcard].map((a) => filterMatches(match, a))).toEqual([true, true, true]);
    expect(filterMatches({ ...match, resourceName: 'payments' }, prefixed)).toBe(false);
    const named: AclBindingFilter = { ...any, resourceName: 'orders' };
    expect([literal, prefixed, wildcard].map((a) => filterMatches(named, a))).toEqual([true, false, false]);
    expect(filterMatches({ ...any, patternType: 'PREFIXED' }, literal)).toBe(false);
    expect(filterMatches({ ...any, principal: 'User:bob' }, literal)).toBe(false);
    expect(filterMatches({ ...any, operation: 'WRITE' }, literal)).toBe(false);
    expect(filterMatches({ ...any, permissionType: 'DENY' }, literal)).toBe(false);
    expect(filterMatches({ ...any, host: '*' }, literal)).toBe(true);
  });

  it('refuses new ACLs as Kafka does, in its words', () => {
    expect(newAclProblem(acl({}))).toBeUndefined();
    expect(newAclProblem(acl({ resourceType: 'CLUSTER', resourceName: 'other' }))).toBe('The only valid name for the CLUSTER resource is kafka-cluster');
    expect(newAclProblem(acl({ resourceName: '' }))).toBe('Invalid empty resource name');
    expect(newAclProblem(acl({ resourceType: 'ANY' }))).toBe('Invalid resourceType ANY');
    expect(newAclProblem(acl({ patternType: 'MATCH' }))).toBe('Invalid patternType MATCH');
    expect(newAclProblem(acl({ patternType: 'ANY' }))).toBe('Invalid patternType ANY');
    expect(newAclProblem(acl({ operation: 'ANY' }))).toBe('Invalid operation ANY');
    expect(newAclProblem(acl({ permissionType: 'ANY' }))).toBe('Invalid permissionType ANY');
    expect(newAclProblem(acl({ principal: 'alice' }))).toBe('expected a string in format principalType:principalName but got alice');
    expect(filterProblem({ ...any, resourceType: 'UNKNOWN' })).toBe('Unknown patternFilter.');
    expect(filterProblem({ ...any, operation: 'UNKNOWN' })).toBe('Unknown entryFilter.');
    expect(filterProblem(any)).toBeUndefined();
  });

  it('writes client addresses as Java\'s getHostAddress does, and operations as bit fields', () => {
    expect(hostAddressOf('127.0.0.1')).toBe('127.0.0.1');
    expect(hostAddressOf('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(hostAddressOf('::1')).toBe('0:0:0:0:0:0:0:1');
    expect(hostAddressOf('fe80::1%eth0')).toBe('fe80:0:0:0:0:0:0:1%eth0');
    expect(hostAddressOf('2001:db8:0:0:1::0001')).toBe('2001:db8:0:0:1:0:0:1');
    expect(operationsBitField(['READ', 'DESCRIBE'])).toBe((1 << 3) | (1 << 8));
  });
});

describe('authorizer configs', () => {
  it('turns the authorizer on with any authorizer.class.name, and reads super.users as Kafka does', () => {
    expect(authorizerConfigured(loadConfig())).toBe(false);
    expect(authorizerConfigured(loadConfig({ overrides: { 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer' } }))).toBe(true);
    expect([...superUsersOf(' User:admin ;;User:ops; ')]).toEqual(['User:admin', 'User:ops']);
    expect(() => loadConfig({ overrides: { 'super.users': 'User:admin;ops' } })).toThrow(ConfigError);
    expect(() => loadConfig({ overrides: { 'super.users': 'User:admin;ops' } })).toThrow('expected a string in format principalType:principalName but got ops');
    expect(() => loadConfig({ overrides: { 'allow.everyone.if.no.acl.found': 'maybe' } })).toThrow(ConfigError);
  });

  it('describes authorizer.class.name, not super.users nor allow.everyone.if.no.acl.found (Kafka\'s broker does not know them)', () => {
    const names = describeBrokerConfigEntries(loadConfig({ overrides: { 'super.users': 'User:admin' } }), true).map((e) => e.name);
    expect(names).toContain('authorizer.class.name');
    expect(names).not.toContain('super.users');
    expect(names).not.toContain('allow.everyone.if.no.acl.found');
  });
});
