// What the security rows (tls, sasl-plain, sasl-scram, acl) need of broker A,
// made at run time: a CA and a broker certificate (openssl), the broker's
// extra listeners (SSL, SASL_PLAINTEXT, SASL_SSL beside the proxied
// PLAINTEXT one) with PLAIN users and SCRAM enabled, the authorizer, the
// SCRAM credentials (AlterUserScramCredentials, sent with Gregor's own
// protocol codecs from dist/, salted here as Kafka's admin client does) and
// the ACLs of the acl row (kafkajs's admin on the PLAINTEXT listener).
//
// The PLAINTEXT listener's principal, User:ANONYMOUS (and an SSL client
// without a certificate), is a super user, and a resource without ACLs is
// open to everyone (allow.everyone.if.no.acl.found=true): the other rows see
// the broker as they saw it before it had an authorizer.
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;

/** The PLAIN users of the SASL listeners (user_<name>="<password>" in their JAAS entries). */
export const USERS = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret' };
/** The SCRAM user the driver creates, with both mechanisms. */
export const SCRAM_USER = { name: 'carol', password: 'carol-secret' };
const SCRAM = { 'SCRAM-SHA-256': { type: 1, hash: 'sha256', bytes: 32 }, 'SCRAM-SHA-512': { type: 2, hash: 'sha512', bytes: 64 } };

const openssl = (args, cwd) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA and a broker certificate for localhost and 127.0.0.1 in `dir`: { ca, keystore (key + chain, PEM) }. */
export function makeCertificates(dir) {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Gregor Compat CA'], dir);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'broker.key'], dir);
  openssl(['req', '-new', '-key', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'broker.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', '-days', '2', '-extfile', 'broker.ext'], dir);
  writeFileSync(join(dir, 'broker.pem'), readFileSync(join(dir, 'broker.key'), 'utf8') + readFileSync(join(dir, 'broker.crt'), 'utf8'));
  return { ca: join(dir, 'ca.crt'), keystore: join(dir, 'broker.pem') };
}

const plainJaas = () =>
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ' +
  Object.entries(USERS).map(([u, p]) => `user_${u}="${p}"`).join(' ') +
  ';';

/** Broker A's listeners beyond PLAINTEXT, TLS, SASL and the authorizer, as --override values. */
export function securityOverrides(certs) {
  return [
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.keystore}`,
    'ssl.client.auth=none',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${plainJaas()}`,
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${plainJaas()}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users=User:ANONYMOUS;User:admin',
    'allow.everyone.if.no.acl.found=true',
  ];
}

/** The listeners broker A serves besides PLAINTEXT (each on a free port, advertised at its own). */
export const SECURE_LISTENERS = ['SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/**
 * AlterUserScramCredentials v0 on a PLAINTEXT listener (a super user's): `user` gets both SCRAM mechanisms,
 * one request each (as Kafka, a request may not name a user twice).
 */
export async function createScramUser(dist, host, port, user) {
  const { encodeRequestFrame, decodeResponseFrame, schemas } = await import(pathToFileURL(join(dist, 'protocol', 'index.js')).href);
  for (const m of Object.values(SCRAM)) {
    const salt = randomBytes(16);
    const iterations = 4096;
    const upsertion = { name: user.name, mechanism: m.type, iterations, salt, saltedPassword: pbkdf2Sync(Buffer.from(user.password), salt, iterations, m.bytes, m.hash) };
    const frame = Buffer.concat(encodeRequestFrame(schemas.alterUserScramCredentialsRequest, 0, 1, 'compat-runner', { deletions: [], upsertions: [upsertion] }));
    const { body } = decodeResponseFrame(schemas.alterUserScramCredentialsResponse, 0, await exchange(host, port, frame));
    if (body.results.length !== 1 || body.results[0].errorCode !== 0) throw new Error(`AlterUserScramCredentials: ${JSON.stringify(body.results)}`);
  }
}

/** One request frame on a new connection; resolves with the response frame (without its size). */
function exchange(host, port, frame) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write(frame));
    let buf = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no response within 10 s')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      socket.end();
      resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
    });
  });
}

/** The acl row's ACLs: alice may write and read `allowed`; on `refused` only bob may write (so alice is refused). */
export async function createAcls(bootstrap, pairs) {
  const admin = new Kafka({ clientId: 'compat-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const acl = (principal, topic, operation) => ({
    principal,
    host: '*',
    permissionType: AclPermissionTypes.ALLOW,
    resourceType: AclResourceTypes.TOPIC,
    resourceName: topic,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    operation,
  });
  await admin.createAcls({
    acl: pairs.flatMap(({ allowed, refused }) => [
      acl('User:alice', allowed, AclOperationTypes.WRITE),
      acl('User:alice', allowed, AclOperationTypes.READ),
      acl('User:bob', refused, AclOperationTypes.WRITE),
    ]),
  });
  await admin.disconnect();
}
