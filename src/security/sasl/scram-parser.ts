/**
 * The argument of `--add-scram` (Kafka's ScramParser, KIP-900: `kafka-storage.sh format --add-scram`), the
 * way to give a broker whose listeners all need SCRAM its first users:
 *
 *   SCRAM-SHA-256=[name=admin,password=admin-secret]
 *   SCRAM-SHA-512=[name=admin,iterations=8192,salt="<base64>",saltedpassword="<base64>"]
 *
 * One mechanism per argument (the flag repeats). Inside the brackets, `key=value` pairs split at every
 * comma (a password cannot hold one, as in Kafka); a value in double quotes loses them. `name` is
 * required; then `password`, or `salt` with `saltedpassword` (both base64: a credential made elsewhere,
 * the password never given); `iterations` defaults to 4096 and must lie within the mechanism's bounds;
 * without `salt`, a random one as Kafka makes it. Any other key is refused.
 *
 * The result is what the store keeps (salt, StoredKey, ServerKey, iterations): the password and the
 * salted password are not kept past the parse. Messages name keys, never values: the argument holds a
 * secret, and a value split at a comma of the password would show part of it.
 */
import { credentialOf, saltedPassword, secureRandomString, type ScramCredential } from './scram-formatter.js';
import { scramMechanismByName, type ScramMechanism } from './scram-mechanism.js';

/** Kafka's default for `iterations` when the argument does not give it. */
const DEFAULT_ITERATIONS = 4096;

/** One user's credential for one mechanism (what Kafka's UserScramCredentialRecord holds). */
export interface UserScramCredential {
  readonly name: string;
  readonly mechanism: ScramMechanism;
  readonly credential: ScramCredential;
}

export class ScramParserError extends Error {
  override readonly name = 'ScramParserError';
}

/** Every argument of the repeated flag; a user named twice for the same mechanism is refused. */
export function parseScramArguments(args: readonly string[]): UserScramCredential[] {
  const out = args.map(parseScramArgument);
  const seen = new Set<string>();
  for (const c of out) {
    const key = `${c.mechanism.name}\u0000${c.name}`;
    if (seen.has(key)) throw new ScramParserError(`${c.mechanism.name} credential of user '${c.name}' given twice`);
    seen.add(key);
  }
  return out;
}

/** `MECHANISM=[key=value,...]`: the credential it describes. */
export function parseScramArgument(argument: string): UserScramCredential {
  const input = argument.trim();
  const eq = input.indexOf('=');
  if (eq < 0) throw new ScramParserError("expected MECHANISM=[name=...,password=...], e.g. 'SCRAM-SHA-256=[name=admin,password=admin-secret]'");
  const mechanismName = input.slice(0, eq);
  const mechanism = scramMechanismByName(mechanismName);
  if (mechanism === undefined) throw new ScramParserError(`the mechanism '${mechanismName}' is not supported (SCRAM-SHA-256 or SCRAM-SHA-512)`);
  const config = input.slice(eq + 1);
  if (!config.startsWith('[') || !config.endsWith(']')) throw new ScramParserError(`expected the ${mechanism.name} configuration in brackets: ${mechanism.name}=[name=...,password=...]`);
  const components = new Map<string, string>();
  for (const component of config.slice(1, -1).split(',')) {
    const at = component.indexOf('=');
    if (at < 0) throw new ScramParserError('a component without an equals sign (expected key=value; a password cannot hold a comma)');
    let value = component.slice(at + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    components.set(component.slice(0, at), value);
  }
  const take = (key: string): string | undefined => {
    const v = components.get(key);
    components.delete(key);
    return v;
  };
  const name = take('name');
  if (name === undefined) throw new ScramParserError("'name' is required");
  if (name === '') throw new ScramParserError("'name' must not be empty");
  const saltText = take('salt');
  const iterationsText = take('iterations');
  const password = take('password');
  const saltedText = take('saltedpassword');
  if (components.size > 0) throw new ScramParserError(`unknown SCRAM configurations: ${[...components.keys()].join(', ')} (name, password, salt, saltedpassword, iterations)`);
  if (password === undefined && saltedText === undefined) throw new ScramParserError("one of 'password' or 'saltedpassword' is required");
  if (password !== undefined && saltedText !== undefined) throw new ScramParserError("'password' and 'saltedpassword' exclude each other");
  if (saltedText !== undefined && saltText === undefined) throw new ScramParserError("'saltedpassword' needs 'salt'");
  let iterations = DEFAULT_ITERATIONS;
  if (iterationsText !== undefined) {
    if (!/^[+-]?\d{1,10}$/.test(iterationsText)) throw new ScramParserError("'iterations' is not an integer");
    iterations = Number(iterationsText);
  }
  if (iterations < mechanism.minIterations) throw new ScramParserError(`'iterations' must be >= ${mechanism.minIterations} for ${mechanism.name}`);
  if (iterations > mechanism.maxIterations) throw new ScramParserError(`'iterations' must be <= ${mechanism.maxIterations} for ${mechanism.name}`);
  const salt = saltText === undefined ? Buffer.from(secureRandomString(), 'utf8') : base64(saltText, 'salt');
  const salted = saltedText === undefined ? saltedPassword(mechanism, password!, salt, iterations) : base64(saltedText, 'saltedpassword');
  return { name, mechanism, credential: credentialOf(mechanism, salt, salted, iterations) };
}

/** Strict base64 (node's decoder skips what it does not know; Kafka's refuses it). */
function base64(text: string, key: string): Buffer {
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new ScramParserError(`'${key}' is not valid base64`);
  return Buffer.from(text, 'base64');
}
