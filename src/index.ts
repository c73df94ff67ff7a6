/**
 * Embedding API: start a Gregor broker inside a test suite or application.
 *
 *   import { startBroker } from 'gregor';
 *   const broker = await startBroker({ port: 0 });
 *   // broker.bootstrap === 'localhost:<port>'
 *   await broker.close();
 *
 * Several listeners: `startBroker({ config: { listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0', ... } })`;
 * broker.broker.boundPorts maps each listener's name to its port.
 *
 * Metrics are off unless asked for: `startBroker({ metrics: true })` serves them on a free port of
 * 127.0.0.1 (broker.metricsPort), `metrics: { port, host }` where you say.
 */
import { rm } from 'node:fs/promises';
import { Broker, makeTempDataDir } from './broker.js';
import { loadConfig } from './config/broker-config.js';
import { createLogger } from './logger.js';
import type { MetadataStore } from './metadata/metadata-store.js';
import type { StorageFs } from '../storage/index.js';

export interface StartBrokerOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Host to bind (default 127.0.0.1) and to advertise (default localhost). */
  host?: string;
  /** Data directory; without it a temp dir is used and removed on close. */
  dataDir?: string;
  /** Any broker configuration, by Kafka property name. */
  config?: Record<string, string | number | boolean>;
  /** Log level (default 'warn'). */
  logLevel?: string;
  /** Where topic metadata is kept (default: a file in the data directory). */
  metadataStore?: MetadataStore;
  /** Serve /metrics, /healthz and /ready: true = on a free port of 127.0.0.1 (default: off). */
  metrics?: boolean | { port?: number; host?: string };
  /** The file system under the logs (default: the real one; tests pass storage's FaultyFs). */
  storageFs?: StorageFs;
}

export interface RunningBroker {
  /** The port of the first listener (broker.boundPorts has every listener's, by name). */
  readonly port: number;
  readonly host: string;
  /** "host:port" for client bootstrap lists. */
  readonly bootstrap: string;
  readonly dataDir: string;
  /** Port of the metrics HTTP server, undefined when metrics are off. */
  readonly metricsPort: number | undefined;
  readonly broker: Broker;
  close(): Promise<void>;
}

export async function startBroker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  const port = opts.port ?? 0;
  const bindHost = opts.host ?? '127.0.0.1';
  const advertisedHost = opts.host ?? 'localhost';
  const tempDir = opts.dataDir === undefined;
  const overrides: Record<string, string> = {
    // several listeners (config.listeners) are advertised at their own hosts unless config says otherwise
    ...(opts.config?.listeners === undefined ? { listeners: `PLAINTEXT://${bindHost}:${port}`, 'advertised.listeners': `PLAINTEXT://${advertisedHost}:${port}` } : {}),
    'gregor.metrics.enabled': String(opts.metrics !== undefined && opts.metrics !== false),
    'gregor.metrics.host': (typeof opts.metrics === 'object' ? opts.metrics.host : undefined) ?? '127.0.0.1',
    'gregor.metrics.port': String((typeof opts.metrics === 'object' ? opts.metrics.port : undefined) ?? 0),
  };
  for (const [k, v] of Object.entries(opts.config ?? {})) overrides[k] = String(v);
  const dataDir = opts.dataDir ?? (await makeTempDataDir());
  overrides['log.dirs'] = dataDir;
  try {
    const config = loadConfig({ overrides });
    const level = opts.logLevel ?? (config.isSet('gregor.log.level') ? config.string('gregor.log.level') : 'warn');
    const logger = createLogger(level, false);
    const broker = await Broker.start({ config, logger, removeDataDirOnClose: tempDir, metadataStore: opts.metadataStore, storageFs: opts.storageFs });
    return {
      port: broker.boundPort,
      host: broker.advertised.host,
      bootstrap: `${broker.advertised.host}:${broker.advertised.port}`,
      dataDir: broker.dataDir,
      metricsPort: broker.metricsPort,
      broker,
      close: () => broker.close(),
    };
  } catch (err) {
    if (tempDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export { Broker } from './broker.js';
export { loadConfig, BrokerConfig, ConfigError } from './config/broker-config.js';
export { FileMetadataStore, MetadataStoreError } from './metadata/metadata-store.js';
export type { MetadataStore, TopicRecord, MetadataIdentity, LoadedMetadata } from './metadata/metadata-store.js';
export type { TopicManager, TopicInfo, PartitionState, TopicConfigView } from './metadata/topic-manager.js';
