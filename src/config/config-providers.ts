/**
 * Kafka's config providers (KIP-297, KIP-421): a config value may name a secret kept elsewhere as
 * `${provider:[path:]key}`, resolved when the configuration is loaded, so that server.properties holds no
 * password. Configured as in Kafka:
 *
 *   config.providers=env,file,dir
 *   config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
 *   config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
 *   config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
 *   listener.name.ssl.ssl.key.password=${env:GREGOR_SSL_KEY_PASSWORD}
 *   ssl.truststore.certificates=${dir:/run/secrets:ca.pem}
 *
 * Kafka's three providers, by their class names:
 * - EnvVarConfigProvider: `${env:NAME}`, the environment variable NAME; a path is an error ("Path is not
 *   supported for EnvVarConfigProvider"); `config.providers.<name>.param.allowlist.pattern` (a regular
 *   expression the whole variable name must match, default every name) limits which variables it reads.
 * - FileConfigProvider: `${file:/path/secrets.properties:key}`, a key of a properties file.
 * - DirectoryConfigProvider: `${dir:/path/dir:file}`, the whole content of a file of a directory.
 * The last two take `config.providers.<name>.param.allowed.paths`: a comma-separated list of absolute
 * paths (each must exist) that a path must lie under, else it is not read.
 *
 * Kafka's ConfigTransformer rules, kept: every value is scanned for `${provider:[path:]key}` (the pattern
 * is Kafka's DEFAULT_PATTERN); a variable whose provider is not configured, or whose key the provider does
 * not have (an unset variable, a missing key), is left as written; a provider named in `config.providers`
 * without a `.class` is not configured. Another class name is refused at start (Kafka would fail to load
 * it). The resolved values are what the broker uses and describes; sensitive ones are never described
 * nor logged.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseProperties } from './properties.js';

/** Kafka's ConfigTransformer.DEFAULT_PATTERN: ${provider:[path:]key}. */
const VARIABLE = /\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}/g;

const PROVIDERS_CONFIG = 'config.providers';
const PACKAGE = 'org.apache.kafka.common.config.provider.';

/** Whether a config name is one of the config providers' settings (config.providers, config.providers.*). */
export function isConfigProviderName(name: string): boolean {
  return name === PROVIDERS_CONFIG || name.startsWith(`${PROVIDERS_CONFIG}.`);
}

/** One provider: the values of some keys under a path (a key it does not have is absent). */
type Provider = (path: string, keys: ReadonlySet<string>) => ReadonlyMap<string, string>;

/** A regular expression that must match the whole text (Java's Matcher.matches). */
function wholeMatch(pattern: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new ConfigError(`invalid configuration ${what}: '${pattern}' is not a regular expression (${(err as Error).message})`);
  }
}

/** Kafka's AllowedPaths: undefined (every path) or absolute existing paths a path must lie under. */
function allowedPaths(value: string | undefined, what: string): ((path: string) => string | undefined) {
  if (value === undefined || value === '') return (path) => path;
  const roots = value.split(',').map((p) => {
    const root = normalize(p);
    if (!isAbsolute(root)) throw new ConfigError(`invalid configuration ${what}: Path ${root} is not absolute`);
    if (!existsSync(root)) throw new ConfigError(`invalid configuration ${what}: Path ${root} does not exist`);
    return root;
  });
  return (path) => {
    const p = normalize(path);
    const under = (root: string): boolean => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
    return roots.some(under) ? p : undefined;
  };
}

function envProvider(params: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv, prefix: string): Provider {
  const allow = params.has('allowlist.pattern') ? wholeMatch(params.get('allowlist.pattern')!, `${prefix}allowlist.pattern`) : undefined;
  return (path, keys) => {
    if (path !== '') throw new ConfigError(`Path is not supported for EnvVarConfigProvider, invalid value '${path}'`);
    const out = new Map<string, string>();
    for (const key of keys) {
      const value = env[key];
      if (value !== undefined && (allow === undefined || allow.test(key))) out.set(key, value);
    }
    return out;
  };
}

function fileProvider(params: ReadonlyMap<string, string>, prefix: string): Provider {
  const allowed = allowedPaths(params.get('allowed.paths'), `${prefix}allowed.paths`);
  return (path, keys) => {
    const out = new Map<string, string>();
    const file = path === '' ? undefined : allowed(path);
    if (file === undefined) return out;
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`Could not read properties from file ${path}`);
    }
    const props = parseProperties(text);
    for (const key of keys) if (props.has(key)) out.set(key, props.get(key)!);
    return out;
  };
}

function directoryProvider(params: ReadonlyMap<string, string>, prefix: string): Provider {
  const allowed = allowedPaths(params.get('allowed.paths'), `${prefix}allowed.paths`);
  return (path, keys) => {
    const out = new Map<string, string>();
    const dir = path === '' ? undefined : allowed(path);
    if (dir === undefined || !existsSync(dir) || !statSync(dir).isDirectory()) return out;
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (!keys.has(name) || !statSync(file).isFile()) continue;
      try {
        out.set(name, readFileSync(file, 'utf8'));
      } catch {
        throw new ConfigError(`Could not read file ${file} for property ${name}`);
      }
    }
    return out;
  };
}

const PROVIDER_CLASSES: Readonly<Record<string, (params: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv, prefix: string) => Provider>> = {
  [`${PACKAGE}EnvVarConfigProvider`]: envProvider,
  [`${PACKAGE}FileConfigProvider`]: (params, _env, prefix) => fileProvider(params, prefix),
  [`${PACKAGE}DirectoryConfigProvider`]: (params, _env, prefix) => directoryProvider(params, prefix),
};

/**
 * The providers `configs` configures (config.providers, config.providers.<name>.class and .param.*), and
 * a function that resolves the variables of a value with them (the identity when there are none): each of
 * `values` (every value given, in any layer) may be resolved.
 */
export function configTransformer(configs: ReadonlyMap<string, string>, values: Iterable<string>, env: NodeJS.ProcessEnv): (value: string) => string {
  const names = configs.get(PROVIDERS_CONFIG);
  if (names === undefined || names === '') return (value) => value;
  const providers = new Map<string, Provider>();
  for (const name of names.split(',')) {
    const className = configs.get(`${PROVIDERS_CONFIG}.${name}.class`);
    if (className === undefined) continue;
    const make = PROVIDER_CLASSES[className.trim()];
    if (make === undefined) {
      throw new ConfigError(
        `invalid configuration ${PROVIDERS_CONFIG}.${name}.class: Gregor has no config provider class '${className}' (it has ${Object.keys(PROVIDER_CLASSES).join(', ')})`,
      );
    }
    const prefix = `${PROVIDERS_CONFIG}.${name}.param.`;
    const params = new Map([...configs].filter(([k]) => k.startsWith(prefix) && k.length > prefix.length).map(([k, v]) => [k.slice(prefix.length), v] as const));
    providers.set(name, make(params, env, prefix));
  }
  if (providers.size === 0) return (value) => value;
  // each provider is asked once per path, for every key the values name (as Kafka's ConfigTransformer)
  const wanted = new Map<string, Map<string, Set<string>>>();
  for (const value of values) {
    for (const m of value.matchAll(VARIABLE)) {
      const [provider, path, key] = [m[1]!, m[3] ?? '', m[4]!];
      if (!providers.has(provider)) continue;
      const byPath = wanted.get(provider) ?? new Map<string, Set<string>>();
      wanted.set(provider, byPath);
      byPath.set(path, (byPath.get(path) ?? new Set()).add(key));
    }
  }
  const found = new Map<string, ReadonlyMap<string, string>>();
  for (const [provider, byPath] of wanted) {
    for (const [path, keys] of byPath) found.set(`${provider}\u0000${path}`, providers.get(provider)!(path, keys));
  }
  return (value) =>
    value.replace(VARIABLE, (whole: string, provider: string, _pathPart: string | undefined, path: string | undefined, key: string) => {
      return found.get(`${provider}\u0000${path ?? ''}`)?.get(key) ?? whole;
    });
}
