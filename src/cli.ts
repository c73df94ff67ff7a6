#!/usr/bin/env node
/**
 * The `gregor` command: start a broker, print a ready line, stop gracefully on SIGINT/SIGTERM.
 *
 *   gregor [server.properties] [--config server.properties] [--override key=value ...]
 *          [--port N] [--host H] [--advertised-host H] [--data-dir DIR] [--node-id N]
 *          [--log-level L] [--metrics-port N] [--add-scram 'SCRAM-SHA-256=[name=U,password=P]' ...]
 *
 * Precedence: defaults < config file < GREGOR_* environment < short flags < --override.
 *
 * --add-scram is Kafka's `kafka-storage.sh format --add-scram` (KIP-900, security/sasl/scram-parser.ts):
 * Gregor has no format step, so the credentials are stored at every start, before the listeners open, for
 * users that have none for that mechanism yet; an existing one is kept. The argument is parsed (and the
 * password salted and dropped) before the broker loads; a malformed one exits 2 without showing it.
 *
 * Messages: a bad flag or config value is one line naming the flag (as typed) or the key, the value and
 * where it came from, exit status 2; a start that fails for a reason outside the program (a port in use, a
 * data dir of another node) is one line, exit status 1; only a bug prints a stack trace.
 *
 * Signals: the first SIGINT or SIGTERM starts the graceful shutdown (exit status 0 once it is done); a
 * second one exits at once with status 1. A repeat of the same signal within SIGNAL_REPEAT_MS counts once:
 * Ctrl-C under `npm start` reaches the broker twice, from the terminal and forwarded by npm, and must not
 * cut the shutdown short. `npm start` execs this process (package.json), so npm's forwarded signals reach
 * it: with a shell in between (Debian's dash does not exec a lone command), npm's SIGTERM killed only the
 * shell and left the broker running.
 */
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { parseArgs } from 'node:util';
import { brokerListenersOf, ConfigError, loadConfig, type BrokerConfig } from './config/broker-config.js';
import { listenerEntries } from './config/listeners.js';
import { parseScramArguments, ScramParserError, type UserScramCredential } from './security/sasl/scram-parser.js';

const HELP = `Usage: gregor [server.properties] [options]

Starts a Kafka-compatible broker (single node).

Options:
  -c, --config FILE          read a server.properties file (also accepted as the only argument)
  -o, --override KEY=VALUE   set any broker config, as Kafka's --override (repeatable)
  -p, --port N               port of the first listener (default 9092); also its advertised port
      --host HOST            interface the first listener binds (default: all interfaces)
      --advertised-host HOST host name given to clients, for every listener (default: localhost)
  -d, --data-dir DIR         log.dirs (default: ./data)
  -n, --node-id N            node.id (default: 1)
  -l, --log-level LEVEL      trace|debug|info|warn|error|fatal|silent (default: info)
      --metrics-port N       gregor.metrics.port (default: 9464)
      --add-scram 'SCRAM-SHA-256=[name=USER,password=PASSWORD]'
                             create a SCRAM user at start, before the listeners open, as Kafka's
                             kafka-storage format --add-scram (repeatable; also iterations=N, or
                             salt=B64,saltedpassword=B64); a user with a credential for that
                             mechanism keeps it, so restarting with the same flags is harmless
  -h, --help                 show this help
  -v, --version              print the version

Configuration uses Kafka's property names (node.id, listeners, advertised.listeners,
log.dirs, num.partitions, auto.create.topics.enable, log.retention.hours, ...).
Environment: GREGOR_<KEY> with dots as underscores sets a config, e.g.
  GREGOR_NUM_PARTITIONS=3 GREGOR_LOG_DIRS=/var/lib/gregor gregor
Precedence: defaults < config file < environment < short flags < --override.

SIGINT (Ctrl-C) or SIGTERM stops the broker gracefully (exit status 0); a second signal
exits at once. A bad flag or config value exits with status 2.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface Flags {
  config?: string;
  override?: string[];
  port?: string;
  host?: string;
  'advertised-host'?: string;
  'data-dir'?: string;
  'node-id'?: string;
  'log-level'?: string;
  'metrics-port'?: string;
  'add-scram'?: string[];
  help?: boolean;
  version?: boolean;
}

/** A repeat of the first signal within this many ms is the same signal delivered twice (see the top). */
const SIGNAL_REPEAT_MS = 1000;

/** The flags, the config file, and each option's name as the user typed it ('-l' or '--log-level'). */
interface ParsedArgs {
  readonly flags: Flags;
  readonly file: string | undefined;
  readonly typed: ReadonlyMap<string, string>;
}

function parseFlags(argv: string[]): ParsedArgs {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      override: { type: 'string', short: 'o', multiple: true },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'advertised-host': { type: 'string' },
      'data-dir': { type: 'string', short: 'd' },
      'node-id': { type: 'string', short: 'n' },
      'log-level': { type: 'string', short: 'l' },
      'metrics-port': { type: 'string' },
      'add-scram': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  const typed = new Map<string, string>();
  for (const token of tokens) if (token.kind === 'option') typed.set(token.name, token.rawName);
  if (positionals.length > 1 || (positionals.length === 1 && values.config !== undefined)) {
    throw new ConfigError(`unexpected argument '${positionals[positionals.length - 1]}' (one config file at most; see --help)`);
  }
  return { flags: values, file: values.config ?? positionals[0], typed };
}

function parseOverrides(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--override expects key=value, got '${kv}'`);
    out[kv.slice(0, eq).trim()] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * Short flags as config overrides, with the flag each came from (as typed) for messages; --port/--host/
 * --advertised-host adjust the listeners of the lower layers. A port is checked here, before it becomes
 * part of a listener URI that would hide the flag.
 */
function flagOverrides(args: ParsedArgs, base: BrokerConfig): { overrides: Record<string, string>; origins: Record<string, string> } {
  const { flags } = args;
  const as = (name: keyof Flags): string => args.typed.get(name) ?? `--${name}`;
  const port = flags.port === undefined ? undefined : portNumber(flags.port, as('port'));
  if (flags['metrics-port'] !== undefined) portNumber(flags['metrics-port'], as('metrics-port'));
  const overrides: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const set = (key: string, value: string, flag: keyof Flags): void => {
    overrides[key] = value;
    origins[key] = as(flag);
  };
  if (port !== undefined || flags.host !== undefined || flags['advertised-host'] !== undefined) {
    // the first listener takes --host and --port; every advertised one --advertised-host, the first also --port
    // (when advertised.listeners is not set: each listener at localhost, as by default)
    const { listeners, advertised } = brokerListenersOf(base);
    const first = listeners[0]!.name;
    if (port !== undefined || flags.host !== undefined) {
      const entries = listenerEntries(base, 'listeners').map((e) =>
        e.name === first ? `${e.name}://${hostPart(flags.host ?? e.host)}:${port ?? e.port}` : e.uri,
      );
      set('listeners', entries.join(','), flags.host !== undefined ? 'host' : 'port');
    }
    if (port !== undefined || flags['advertised-host'] !== undefined) {
      const given = base.isSet('advertised.listeners');
      const entries = listeners.flatMap((l) => {
        const ep = given ? advertised.get(l.name) : { host: 'localhost', port: l.port };
        if (ep === undefined) return [];
        return [`${l.name}://${hostPart(flags['advertised-host'] ?? ep.host)}:${l.name === first ? (port ?? ep.port) : ep.port}`];
      });
      set('advertised.listeners', entries.join(','), flags['advertised-host'] !== undefined ? 'advertised-host' : 'port');
    }
  }
  if (flags['data-dir'] !== undefined) set('log.dirs', flags['data-dir'], 'data-dir');
  if (flags['node-id'] !== undefined) set('node.id', flags['node-id'], 'node-id');
  if (flags['log-level'] !== undefined) set('gregor.log.level', flags['log-level'], 'log-level');
  if (flags['metrics-port'] !== undefined) set('gregor.metrics.port', flags['metrics-port'], 'metrics-port');
  return { overrides, origins };
}

/** The credentials of --add-scram; a malformed one is a ConfigError naming the flag (never the password). */
function scramCredentials(args: readonly string[]): UserScramCredential[] {
  try {
    return parseScramArguments(args);
  } catch (err) {
    if (err instanceof ScramParserError) throw new ConfigError(`--add-scram: ${err.message}`);
    throw err;
  }
}

/** A TCP port given on the command line (0 = any free port). */
function portNumber(value: string, flag: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new ConfigError(`${flag}: '${value}' is not a port number (0-65535)`);
  return Number(text);
}

/** module.enableCompileCache() where Node has it (22.1+); a failure to set up the cache is not an error. */
function enableCompileCache(): void {
  const enable = (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache;
  if (typeof enable !== 'function' || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    enable();
  } catch {
    // no cache: startup compiles as before
  }
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function main(): Promise<void> {
  const args = parseFlags(process.argv.slice(2));
  const { flags, file } = args;
  if (flags.help) {
    process.stdout.write(HELP);
    return;
  }
  if (flags.version) {
    process.stdout.write(`gregor ${version()}\n`);
    return;
  }
  const explicit = parseOverrides(flags.override ?? []);
  const base = loadConfig({ file, env: process.env, overrides: explicit });
  const fromFlags = flagOverrides(args, base);
  const config = loadConfig({ file, env: process.env, overrides: { ...fromFlags.overrides, ...explicit }, origins: omit(fromFlags.origins, explicit) });
  const addScram = scramCredentials(flags['add-scram'] ?? []);
  // loaded only now, so that --help, --version and config errors answer without loading the broker; on
  // Node 22.1+ the modules' compiled code is cached on disk (module.enableCompileCache; absent on Node 20)
  enableCompileCache();
  const [{ Broker }, { createLogger }] = await Promise.all([import('./broker.js'), import('./logger.js')]);
  const logger = createLogger(config.string('gregor.log.level'));
  if (config.ignored.length > 0) {
    logger.warn({ keys: config.ignored, file }, 'ignoring configuration keys Gregor does not know');
  }
  for (const warning of config.warnings) logger.warn(warning);
  // The handlers come before the start: a signal while the logs load stops the broker as soon as it has
  // started (instead of killing it mid-recovery), and whoever reads the ready line may signal at once.
  let broker: Awaited<ReturnType<typeof Broker.start>> | undefined;
  let first: { signal: string; at: number } | undefined;
  const shutdown = (running: NonNullable<typeof broker>): void => {
    running.close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  const stop = (signal: string): void => {
    if (first !== undefined) {
      if (signal === first.signal && Date.now() - first.at < SIGNAL_REPEAT_MS) {
        logger.debug({ signal }, 'the same signal again at once (from the terminal and from npm): counted once');
        return;
      }
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      logger.flush();
      process.exit(1);
    }
    first = { signal, at: Date.now() };
    logger.info({ signal }, broker === undefined ? 'shutting down once started' : 'shutting down');
    if (broker !== undefined) shutdown(broker);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  broker = await Broker.start({ config, logger, addScram });
  if (first !== undefined) {
    shutdown(broker);
    return;
  }
  // the first listener as before there were several (scripts read it), then the others
  const [listener, ...others] = broker.listeners;
  const bound = (l: typeof listener): string => `${l!.host === '' ? '0.0.0.0' : l!.host}:${broker.boundPorts.get(l!.name)}`;
  const advertisedAs = (l: typeof listener): string => {
    const ep = broker.advertisedListeners.get(l!.name);
    return ep === undefined ? 'not advertised' : `advertised as ${ep.host}:${ep.port}`;
  };
  const more = others.map((l) => `; ${l.name} (${l.securityProtocol}) on ${bound(l)}, ${advertisedAs(l)}`).join('');
  process.stdout.write(
    `Gregor ${version()} ready: listening on ${bound(listener)}, ${advertisedAs(listener)} (node ${broker.nodeId}, cluster ${broker.clusterId}, data ${broker.dataDir}` +
      `${broker.metricsPort === undefined ? '' : `, metrics on port ${broker.metricsPort}`})${more}\n`,
  );
}

/** The keys of `origins` that `explicit` (--override) does not set again. */
function omit(origins: Record<string, string>, explicit: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(origins).filter(([key]) => !(key in explicit)));
}

/**
 * Errors that need no stack trace: bad configuration, a port in use (the Kafka port's own error, or the
 * metrics server's, which names the port and carries the system error as its cause), a log dir of another node.
 */
function isOperational(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown };
  return (
    (typeof e.code === 'string' && ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EROFS', 'ENOSPC'].includes(e.code)) ||
    e.name === 'StorageError' ||
    e.name === 'MetadataStoreError' ||
    (e.cause !== undefined && e.cause !== null && isOperational(e.cause))
  );
}

main().catch((err: unknown) => {
  const code = (err as { code?: string }).code ?? '';
  if (err instanceof ConfigError || code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`gregor: ${(err as Error).message}\nTry 'gregor --help'.\n`);
    process.exit(2);
  }
  const detail = isOperational(err) ? (err as Error).message : ((err as Error).stack ?? String(err));
  process.stderr.write(`gregor: failed to start: ${detail}\n`);
  process.exit(1);
});
