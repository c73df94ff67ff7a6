/**
 * SCRAM's arithmetic (RFC 5802 section 3, Kafka's ScramFormatter), for one
 * mechanism's hash:
 *
 *   SaltedPassword  = Hi(password, salt, i)          (PBKDF2 with HMAC, one block)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = H(ClientKey)
 *   ServerKey       = HMAC(SaltedPassword, "Server Key")
 *   AuthMessage     = client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof
 *   ClientSignature = HMAC(StoredKey, AuthMessage)
 *   ClientProof     = ClientKey XOR ClientSignature
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * The server keeps salt, StoredKey, ServerKey and the iteration count (a
 * ScramCredential), never the password: it checks a proof by recovering
 * ClientKey = ClientProof XOR ClientSignature and comparing H(ClientKey) with
 * StoredKey. As Kafka, the password is taken as its UTF-8 bytes (no SASLprep).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramMechanism } from './scram-mechanism.js';

/** What the broker stores of a user's password for one mechanism (Kafka's ScramCredential). */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

export function hmac(m: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(m.hash, key).update(data).digest();
}

export function hash(m: ScramMechanism, data: Buffer): Buffer {
  return createHash(m.hash).update(data).digest();
}

/** Hi(password, salt, iterations): PBKDF2-HMAC with the output length of one digest. */
export function saltedPassword(m: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, m.digestBytes, m.hash);
}

export function clientKey(m: ScramMechanism, salted: Buffer): Buffer {
  return hmac(m, salted, 'Client Key');
}

export function serverKey(m: ScramMechanism, salted: Buffer): Buffer {
  return hmac(m, salted, 'Server Key');
}

/** XOR of two buffers of the same length (undefined when their lengths differ). */
export function xor(a: Buffer, b: Buffer): Buffer | undefined {
  if (a.length !== b.length) return undefined;
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The credential a salted password gives (Kafka's ScramFormatter.generateCredential(salt, saltedPassword, iterations)). */
export function credentialOf(m: ScramMechanism, salt: Buffer, salted: Buffer, iterations: number): ScramCredential {
  return { salt, storedKey: hash(m, clientKey(m, salted)), serverKey: serverKey(m, salted), iterations };
}

/** A new credential for a password, with a fresh random salt (as Kafka's generateCredential(password, iterations)). */
export function generateCredential(m: ScramMechanism, password: string, iterations: number): ScramCredential {
  const salt = Buffer.from(secureRandomString(), 'utf8');
  return credentialOf(m, salt, saltedPassword(m, password, salt, iterations), iterations);
}

/** The AuthMessage of RFC 5802. */
export function authMessage(clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): Buffer {
  return Buffer.from(`${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`, 'utf8');
}

/** The client's proof (what a client computes; the tests use it). */
export function clientProof(m: ScramMechanism, salted: Buffer, message: Buffer): Buffer {
  const key = clientKey(m, salted);
  return xor(key, hmac(m, hash(m, key), message))!;
}

/** Whether `proof` proves knowledge of the password behind `storedKey`, in constant time. */
export function verifyClientProof(m: ScramMechanism, storedKey: Buffer, message: Buffer, proof: Buffer): boolean {
  const signature = hmac(m, storedKey, message);
  const key = xor(signature, proof);
  if (key === undefined) return false;
  const computed = hash(m, key);
  return computed.length === storedKey.length && timingSafeEqual(computed, storedKey);
}

export function serverSignature(m: ScramMechanism, serverKeyBytes: Buffer, message: Buffer): Buffer {
  return hmac(m, serverKeyBytes, message);
}

/**
 * A random nonce (or salt) as Kafka makes them: a 130-bit random number written in base 36 (up to 26 of
 * [0-9a-z]).
 */
export function secureRandomString(): string {
  const bytes = randomBytes(17);
  bytes[0] = bytes[0]! & 0x03;
  return BigInt(`0x${bytes.toString('hex')}`).toString(36);
}

/** A SCRAM user name in its saslname form: "=" as "=3D", "," as "=2C" (RFC 5802 section 5.1). */
export function saslName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The user name a saslname stands for; undefined for an "=" not followed by 2C or 3D (Kafka's "Invalid username"). */
export function usernameOf(saslname: string): string | undefined {
  const commas = saslname.replace(/=2C/g, ',');
  if (commas.replace(/=3D/g, '').includes('=')) return undefined;
  return commas.replace(/=3D/g, '=');
}
