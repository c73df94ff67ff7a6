#!/usr/bin/env node
/**
 * The `gregor` command: start a broker.
 *
 *   gregor [--config server.properties] [--override key=value ...]
 *          [--port N] [--host H] [--advertised-host H] [--data-dir DIR] [--node-id N]
 *          [--log-level L] [--metrics-port N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Broker } from './broker.js';
import { ConfigError, loadConfig } from './config/broker-config.js';
import { createLogger } from './logger.js';

const HELP = `Usage: gregor [options]

Starts a Kafka-compatible broker (plaintext only).

Options:
  -c, --config FILE          read a server.properties file
  -o, --override KEY=VALUE   set any broker config (repeatable), as Kafka's --override
  -p, --port N               listen port (listeners=PLAINTEXT://:N, advertised localhost:N)
      --host HOST            interface to bind (default: all)
      --advertised-host HOST host name given to clients (default: localhost)
  -d, --data-dir DIR         log.dirs (default: ./data)
      --node-id N            node.id (default: 1)
  -l, --log-level LEVEL      trace|debug|info|warn|error (default: info)
      --metrics-port N       Prometheus metrics port (default: 9464; 0 = any free port)
  -h, --help                 show this help
  -v, --version              print the version

Environment: GREGOR_<KEY> sets a config, dots as underscores (GREGOR_NUM_PARTITIONS=3).
Precedence: defaults < --config file < environment < flags.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      override: { type: 'string', short: 'o', multiple: true },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'advertised-host': { type: 'string' },
      'data-dir': { type: 'string', short: 'd' },
      'node-id': { type: 'string' },
      'log-level': { type: 'string', short: 'l' },
      'metrics-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`gregor ${version()}\n`);
    return;
  }
  const overrides: Record<string, string> = {};
  if (values.port !== undefined) {
    overrides['listeners'] = `PLAINTEXT://${values.host ?? ''}:${values.port}`;
    overrides['advertised.listeners'] = `PLAINTEXT://${values['advertised-host'] ?? 'localhost'}:${values.port}`;
  } else if (values.host !== undefined) {
    overrides['listeners'] = `PLAINTEXT://${values.host}:9092`;
  }
  if (values['advertised-host'] !== undefined && values.port === undefined) {
    overrides['advertised.listeners'] = `PLAINTEXT://${values['advertised-host']}:9092`;
  }
  if (values['data-dir'] !== undefined) overrides['log.dirs'] = values['data-dir'];
  if (values['node-id'] !== undefined) overrides['node.id'] = values['node-id'];
  if (values['log-level'] !== undefined) overrides['gregor.log.level'] = values['log-level'];
  if (values['metrics-port'] !== undefined) overrides['gregor.metrics.port'] = values['metrics-port'];
  for (const kv of values.override ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--override expects key=value, got '${kv}'`);
    overrides[kv.slice(0, eq).trim()] = kv.slice(eq + 1);
  }
  const config = loadConfig({ file: values.config, overrides, env: process.env });
  const logger = createLogger(config.string('gregor.log.level'));
  const broker = await Broker.start({ config, logger });
  process.stdout.write(
    `Gregor ${version()} ready: listening on ${config.list('listeners')[0]} (bound port ${broker.boundPort}), ` +
      `advertised as ${broker.advertised.host}:${broker.advertised.port}, node ${broker.nodeId}, ` +
      `cluster ${broker.clusterId}, data in ${broker.dataDir}\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    broker.close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`gregor: ${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`gregor: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
