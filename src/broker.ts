/**
 * The broker: configuration, logger, the log manager, topics, and the TCP
 * server, started and stopped together.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LogManager } from '../storage/index.js';
import { advertisedListenerOf, listenerOf, type BrokerConfig, type Endpoint } from './config/broker-config.js';
import { logDefaultsOf } from './config/log-defaults.js';
import { GroupCoordinator } from './group/coordinator.js';
import { releaseParkedFetches } from './handlers/fetch.js';
import type { Logger } from './logger.js';
import type { MetadataStore } from './metadata/metadata-store.js';
import { TopicManager } from './metadata/topic-manager.js';
import { recordTimestampLookup } from './offsets/find-record-by-timestamp.js';
import { ProducerIdManager } from './produce/producer-ids.js';
import { ProducerStateManager } from './produce/producer-state-manager.js';
import { Server } from './server.js';

export interface BrokerOptions {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  /** Remove the data directory on close (embedding with a temp dir). */
  readonly removeDataDirOnClose?: boolean;
  /** Where topic metadata is kept (default: a file in the log dir). */
  readonly metadataStore?: MetadataStore;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly nodeId: number;
  readonly startedAt = Date.now();
  /** Where clients are told to connect (the bound port when the configured one is 0). */
  advertised: Endpoint;
  logs!: LogManager;
  topics!: TopicManager;
  groups!: GroupCoordinator;
  /** Producer ids for InitProducerId. */
  producerIds!: ProducerIdManager;
  /** Idempotent producers' state per partition; Produce appends through it. */
  producerStates!: ProducerStateManager;
  private server: Server | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly opts: BrokerOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.nodeId = opts.config.int('node.id');
    this.advertised = advertisedListenerOf(opts.config);
  }

  get clusterId(): string {
    return this.logs.clusterId;
  }
  get dataDir(): string {
    return this.logs.logDir;
  }
  get connections(): Server['connections'] {
    return this.server?.connections ?? new Set();
  }

  /** Starts a broker; on failure, whatever was already opened is closed again before the error is thrown. */
  static async start(opts: BrokerOptions): Promise<Broker> {
    const broker = new Broker(opts);
    try {
      await broker.startInternal();
    } catch (err) {
      await broker.abortStart();
      throw err;
    }
    return broker;
  }

  private async abortStart(): Promise<void> {
    const steps: Array<() => Promise<void> | undefined> = [
      () => this.groups?.close(),
      () => this.server?.close(),
      () => this.producerStates?.close(),
      () => this.topics?.close(),
      () => this.logs?.close(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.logger.warn({ err }, 'cleanup after a failed start failed');
      }
    }
    if (this.opts.removeDataDirOnClose && this.logs) await rm(this.logs.logDir, { recursive: true, force: true });
  }

  private async startInternal(): Promise<void> {
    const config = this.config;
    const listener = listenerOf(config);
    this.logs = await LogManager.open({
      logDir: resolve(config.string('log.dirs')),
      nodeId: this.nodeId,
      defaults: logDefaultsOf(config),
      logger: this.logger,
      retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
      cacheBytes: config.long('gregor.cache.bytes'),
      maxOpenFiles: config.int('gregor.max.open.files'),
      findRecordByTimestamp: recordTimestampLookup(config.int('gregor.max.decompressed.bytes')),
    });
    this.producerIds = ProducerIdManager.open(this.logs.logDir);
    this.producerStates = new ProducerStateManager({
      logger: this.logger,
      expirationMs: config.int('producer.id.expiration.ms'),
      expirationCheckIntervalMs: config.int('producer.id.expiration.check.interval.ms'),
      isLive: (log) => this.logs.getLog(log.topic, log.partition) === log,
    });
    this.topics = await TopicManager.open(this, this.opts.metadataStore);
    this.groups = GroupCoordinator.start(this);
    const server = new Server(this, {
      maxRequestBytes: config.int('socket.request.max.bytes'),
      maxQueuedBytes: queuedBytesLimit(config),
      idleMs: config.long('connections.max.idle.ms'),
      maxConnections: config.int('max.connections'),
      maxConnectionsPerIp: config.int('max.connections.per.ip'),
    });
    this.server = server;
    const port = await server.listen(listener.host, listener.port);
    if (this.advertised.port === 0 || (listener.port === 0 && !config.isSet('advertised.listeners'))) {
      this.advertised = { host: this.advertised.host, port };
    }
    this.boundPort = port;
  }

  /** The port the server is bound to. */
  boundPort = 0;

  /** Graceful shutdown: stop accepting, finish in-flight requests, flush and checkpoint the logs. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // answers parked JoinGroup/SyncGroup requests, so in-flight requests can finish
      await this.groups?.close();
      releaseParkedFetches(this);
      await this.server?.close();
      // snapshots producer state at the log end, before the logs close and the clean-shutdown marker is written
      await this.producerStates.close();
      await this.topics.close();
      await this.logs.close();
      if (this.opts.removeDataDirOnClose) await rm(this.logs.logDir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

function queuedBytesLimit(config: BrokerConfig): number {
  const v = config.long('queued.max.request.bytes');
  return v > 0 ? v : config.int('socket.request.max.bytes');
}

/** A fresh temp directory for an embedded broker. */
export function makeTempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gregor-'));
}
