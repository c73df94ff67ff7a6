// The clients of the matrix: how to run each one's scenario script, what it
// cannot do (n/a, with the reason), and how to read its version.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compileProgram, librdkafka, nodeClients } from './librdkafka.mjs';
import { SHARE_ROWS } from './scenarios.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
const SCRIPTS = join(HERE, 'clients');
const PYTHON = '/usr/bin/python3';

function quiet(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
  } catch (err) {
    return `unavailable (${(err.stderr || err.message).toString().trim().split('\n')[0]})`;
  }
}

const npmVersion = (pkg) => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const debVersion = (pkg) => quiet('dpkg-query', ['-W', '-f', '${Version}', pkg]);
const nodeScript = (file) => () => ({ cmd: process.execPath, args: [join(SCRIPTS, file)] });

const NO_IDEMPOTENCE = 'client has no idempotent producer';
const NO_TRANSACTIONS = 'client has no transactional producer';
/** librdkafka has KIP-848 (group.protocol=consumer) since 2.4 (early access; production-ready in 2.12). */
const DEBIAN_LIBRDKAFKA_NO_KIP848 = "built on Debian's librdkafka 2.0.2, which has no group.protocol=consumer (KIP-848 came in librdkafka 2.4)";
const NO_KIP848 = (what) => `${what} has only the classic group protocol (no KIP-848 ConsumerGroupHeartbeat)`;
/** librdkafka's share consumer (KIP-932, rd_kafka_share_*) came in 2.15, as a preview. */
const DEBIAN_LIBRDKAFKA_NO_SHARE = "built on Debian's librdkafka 2.0.2, which has no share consumer (KIP-932's came in librdkafka 2.15, as a preview)";
/** The same n/a reason for each share-group row (SHARE_ROWS). */
const noShare = (reason) => Object.fromEntries(SHARE_ROWS.map((id) => [id, reason]));
const NO_SHARE = (what) => noShare(`${what} has no share consumer (KIP-932 share groups)`);
/** sarama 1.22 has SCRAM only through a client the application plugs in (Net.SASL.SCRAMClientGeneratorFunc). */
const SARAMA_NO_SCRAM =
  'sarama 1.22 runs SCRAM only with a SCRAM client the application supplies (Net.SASL.SCRAMClientGeneratorFunc, e.g. xdg/scram), which Debian does not package';

/** librdkafka 2.15 and the bindings built on it (./librdkafka.mjs), once their prepare resolved. */
const built = {};
const builtDir = (key) => {
  if (built[key] === undefined) throw new Error('not prepared');
  return built[key];
};
/** What a binding reports at run time: its librdkafka is the one it was linked against. */
const bindingVersion = (pkg, dir) =>
  quiet(process.execPath, ['-e', `const k = require(${JSON.stringify(dir)}); console.log(${JSON.stringify(pkg)} + ' ' + require(${JSON.stringify(join(dir, 'package.json'))}).version + ', librdkafka ' + k.librdkafkaVersion)`]);
const BUILT_FROM = 'built from the source in @confluentinc/kafka-javascript';
/** What librdkafka 2.15 (src/rdkafka_request.c, rdkafka_telemetry.c) asks for only when a broker lists it. */
const LIBRDKAFKA_215_BEYOND =
  'librdkafka 2.15: KIP-714 client telemetry, GetTelemetrySubscriptions v0 then PushTelemetry v0, on by default (enable.metrics.push=true). ' +
  'It has no DescribeTopicPartitions (KIP-966): its DescribeTopics admin call uses Metadata (v13, its newest and Gregor\'s). ' +
  'Its newest Produce is v10 and Fetch v16 (v13+ name topics by id, which Gregor answers).';

/** Builds the two Go programs once per run, offline, in GOPATH mode. */
let goBuild;
export function buildGo(tmp) {
  goBuild ??= (async () => {
    const gopath = join(tmp, 'gopath');
    const bin = join(tmp, 'go-bin');
    mkdirSync(bin, { recursive: true });
    cpSync(join(SCRIPTS, 'go'), join(gopath, 'src', 'gregorcompat'), { recursive: true });
    const env = {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:/usr/share/gocode`,
      GOPROXY: 'off',
      GOFLAGS: '',
      GOCACHE: process.env.GOCACHE ?? join(homedir(), '.cache', 'go-build'),
    };
    const run = promisify(execFile);
    for (const prog of ['sarama', 'kafkago']) {
      await run('go', ['build', '-o', join(bin, prog), `gregorcompat/${prog}`], { env, cwd: gopath, maxBuffer: 1 << 24 });
    }
    return bin;
  })();
  return goBuild;
}

export const CLIENTS = [
  {
    name: 'kcat',
    title: 'kcat (librdkafka)',
    language: 'C (driven from a Node.js script)',
    version: () => {
      // kcat -V exits 1 after printing its version.
      const v = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout ?? '';
      return `kcat ${/Version (\S+)/.exec(v)?.[1] ?? '?'}, librdkafka ${/librdkafka (\d[^\s)]*)/.exec(v)?.[1] ?? '?'}`;
    },
    headers: true,
    prepare: async () => {
      if (!existsSync('/usr/bin/kcat')) throw new Error('kcat is not installed (Debian package kcat)');
    },
    command: nodeScript('kcat.mjs'),
    supports: {
      'create-topic': 'kcat has no admin commands',
      'delete-topic': 'kcat has no admin commands',
      'topic-configs': 'kcat has no admin commands',
      'consumer-protocol': `kcat 1.7.1 is ${DEBIAN_LIBRDKAFKA_NO_KIP848}`,
      ...noShare(`kcat 1.7.1 is ${DEBIAN_LIBRDKAFKA_NO_SHARE}`),
      transactions:
        'kcat (-X transactional.id) commits its whole input as one transaction at its end and aborts only on a signal, ' +
        'but it reads its input in large blocks: a few messages are still unsent when the signal comes, so no abort has data',
    },
  },
  {
    name: 'confluent-python',
    title: 'confluent-kafka-python',
    language: 'Python',
    version: () => quiet(PYTHON, ['-c', 'import confluent_kafka as c; print(f"confluent-kafka {c.version()[0]}, librdkafka {c.libversion()[0]}")']),
    headers: true,
    prepare: async () => {
      quietCheck(PYTHON, ['-c', 'import confluent_kafka'], 'python3-confluent-kafka is not installed');
    },
    command: () => ({ cmd: PYTHON, args: [join(SCRIPTS, 'confluent_client.py')] }),
    supports: {
      'consumer-protocol': `confluent-kafka-python 1.7 (Debian) is ${DEBIAN_LIBRDKAFKA_NO_KIP848}`,
      ...noShare(`confluent-kafka-python 1.7 (Debian) is ${DEBIAN_LIBRDKAFKA_NO_SHARE}`),
    },
  },
  {
    name: 'kafka-python',
    title: 'kafka-python',
    language: 'Python',
    version: () => quiet(PYTHON, ['-c', 'import kafka; print(f"kafka-python {kafka.__version__}")']),
    headers: true,
    prepare: async () => {
      quietCheck(PYTHON, ['-c', 'import kafka'], 'python3-kafka is not installed');
    },
    command: () => ({ cmd: PYTHON, args: [join(SCRIPTS, 'kafka_python_client.py')] }),
    supports: {
      idempotent: NO_IDEMPOTENCE,
      transactions: 'kafka-python 2.0 has no transactional producer and no read_committed consumer (both added in 2.2)',
      'consumer-protocol': NO_KIP848('kafka-python 2.0'),
      ...NO_SHARE('kafka-python 2.0'),
    },
  },
  {
    name: 'sarama-0.8.2',
    title: 'sarama, default version (0.8.2)',
    language: 'Go',
    version: () => `sarama ${debVersion('golang-github-shopify-sarama-dev')} (Debian), Version=V0_8_2_0`,
    headers: false,
    prepare: (ctx) => buildGo(ctx.tmp),
    command: (ctx) => ({ cmd: join(ctx.tmp, 'go-bin', 'sarama'), args: ['default'] }),
    supports: {
      'create-topic': "sarama's ClusterAdmin needs Version >= 0.10 (controller id from Metadata v1)",
      'delete-topic': "sarama's ClusterAdmin needs Version >= 0.10 (controller id from Metadata v1)",
      'topic-configs': "sarama's ClusterAdmin needs Version >= 0.10 (controller id from Metadata v1)",
      'produce-lz4': 'sarama needs Version >= 0.10 for lz4',
      'produce-zstd': 'sarama needs Version >= 2.1 for zstd',
      'offsets-time': 'ListOffsets v0 only: no record timestamps before 0.10.1',
      idempotent: 'sarama needs Version >= 0.11 for idempotence',
      transactions: 'sarama 1.22 has no transactional producer (added in 1.37, with Version >= 0.11)',
      'sasl-scram': SARAMA_NO_SCRAM,
      'consumer-protocol': NO_KIP848('sarama 1.22'),
      ...NO_SHARE('sarama 1.22'),
    },
  },
  {
    name: 'sarama-2.1',
    title: 'sarama, Version=V2_1_0_0',
    language: 'Go',
    version: () => `sarama ${debVersion('golang-github-shopify-sarama-dev')} (Debian), Version=V2_1_0_0`,
    headers: true,
    prepare: (ctx) => buildGo(ctx.tmp),
    command: (ctx) => ({ cmd: join(ctx.tmp, 'go-bin', 'sarama'), args: ['2.1'] }),
    supports: {
      'produce-zstd': {
        reason: 'sarama 1.22 sends zstd batches in Produce v3; zstd needs Produce v7 (sarama >= 1.23)',
        brokerError: /does not support the compression type/,
      },
      transactions: 'sarama 1.22 has no transactional producer (added in 1.37)',
      'sasl-scram': SARAMA_NO_SCRAM,
      'consumer-protocol': NO_KIP848('sarama 1.22'),
      ...NO_SHARE('sarama 1.22'),
    },
  },
  {
    name: 'kafka-go',
    title: 'segmentio/kafka-go',
    language: 'Go',
    version: () => `kafka-go ${debVersion('golang-github-segmentio-kafka-go-dev')} (Debian)`,
    headers: false,
    prepare: (ctx) => buildGo(ctx.tmp),
    command: (ctx) => ({ cmd: join(ctx.tmp, 'go-bin', 'kafkago'), args: [] }),
    supports: {
      'produce-zstd': 'kafka-go 0.2 has gzip, snappy and lz4 codecs only',
      idempotent: NO_IDEMPOTENCE,
      'topic-configs': 'kafka-go 0.2 has no DescribeConfigs/AlterConfigs',
      transactions: NO_TRANSACTIONS,
      'sasl-plain': 'kafka-go 0.2 has no SASL (added in 0.3)',
      'sasl-scram': 'kafka-go 0.2 has no SASL (added in 0.3)',
      acl: "kafka-go 0.2 has no SASL (added in 0.3), and the row's principals are SASL users",
      'consumer-protocol': NO_KIP848('kafka-go 0.2'),
      ...NO_SHARE('kafka-go 0.2'),
    },
  },
  {
    name: 'kafkajs',
    title: 'kafkajs',
    language: 'JavaScript',
    version: () => `kafkajs ${npmVersion('kafkajs')}`,
    headers: true,
    prepare: async () => {},
    command: nodeScript('kafkajs.mjs'),
    supports: { consume: 'kafkajs consumers always join a group', 'consumer-protocol': NO_KIP848('kafkajs 2.2'), ...NO_SHARE('kafkajs 2.2') },
  },
  {
    name: 'platformatic',
    title: '@platformatic/kafka',
    language: 'JavaScript',
    version: () => `@platformatic/kafka ${npmVersion('@platformatic/kafka')}`,
    headers: true,
    prepare: async () => {},
    command: nodeScript('platformatic.mjs'),
    knownIssues: [
      {
        producers: ['kafka-python', 'sarama-0.8.2', 'kafka-go', 'kafka-node'],
        codec: 'snappy',
        reason:
          '@platformatic/kafka cannot decompress xerial-framed snappy: its WASM snappy decoder traps ("unreachable"). ' +
          'kafka-python (like the Java producer) writes xerial framing, and the broker writes it when it converts ' +
          'legacy snappy message sets (sarama 0.8.2, kafka-go, kafka-node) to record batches, as Kafka does',
      },
    ],
    supports: {
      'produce-zstd': `zstd needs node:zlib zstd (Node >= 22.15); this run uses Node ${process.versions.node}`,
      ...noShare('@platformatic/kafka 1.35 has no share consumer (its protocol table names the KIP-932 APIs; it has no client for them)'),
    },
  },
  {
    name: 'kafka-node',
    title: 'kafka-node',
    language: 'JavaScript',
    version: () => `kafka-node ${npmVersion('kafka-node')}`,
    headers: false,
    prepare: async () => {},
    command: nodeScript('kafka-node.mjs'),
    supports: {
      'produce-lz4': 'kafka-node has gzip and snappy codecs only',
      'produce-zstd': 'kafka-node has gzip and snappy codecs only',
      'offsets-time': 'kafka-node speaks ListOffsets v0 only (no record timestamps)',
      'delete-topic': 'kafka-node has no DeleteTopics',
      'topic-configs': 'kafka-node has no AlterConfigs',
      idempotent: NO_IDEMPOTENCE,
      transactions: NO_TRANSACTIONS,
      'sasl-scram': 'kafka-node 5 has SASL PLAIN only',
      'consumer-protocol': NO_KIP848('kafka-node'),
      ...NO_SHARE('kafka-node'),
    },
  },
  {
    name: 'librdkafka-2.15',
    title: 'librdkafka 2.15 (C driver)',
    language: 'C (clients/rdkafka_driver.c, rdkafka_txn.c and rdkafka_share.c, driven from a Node.js script)',
    version: () => {
      const v = quiet(builtDir('librdkafka').bin.driver, ['version']);
      return `librdkafka ${/"version":"([^"]+)"/.exec(v)?.[1] ?? v} (${BUILT_FROM}), features ${/"features":"([^"]+)"/.exec(v)?.[1] ?? '?'}`;
    },
    beyondGregor: LIBRDKAFKA_215_BEYOND,
    headers: true,
    prepare: async (ctx) => {
      built.librdkafka = await librdkafka();
      // The transactional producer (clients/rdkafka_txn.c), built for this run.
      built.txn = await compileProgram(built.librdkafka, join(SCRIPTS, 'rdkafka_txn.c'), join(ctx.tmp, 'rdkafka_txn'), { extraArgs: ['-Werror', '-std=gnu11'] });
      // The share consumer (clients/rdkafka_share.c, librdkafka's preview rd_kafka_share_* API), the same way.
      built.share = await compileProgram(built.librdkafka, join(SCRIPTS, 'rdkafka_share.c'), join(ctx.tmp, 'rdkafka_share'), { extraArgs: ['-Werror', '-std=gnu11'] });
    },
    command: () => ({ cmd: process.execPath, args: [join(SCRIPTS, 'rdkafka215.mjs'), builtDir('librdkafka').bin.driver, builtDir('txn'), builtDir('share')] }),
    supports: {},
  },
  {
    name: 'confluent-kafka-javascript',
    title: '@confluentinc/kafka-javascript',
    language: 'JavaScript (KafkaJS-style API; node-rdkafka-style for reads without a group)',
    version: () => `${bindingVersion('@confluentinc/kafka-javascript', builtDir('clients').confluentKafkaJavascript.dir)} (${BUILT_FROM})`,
    beyondGregor: LIBRDKAFKA_215_BEYOND,
    headers: true,
    prepare: async () => {
      built.clients = await nodeClients();
    },
    command: () => ({ cmd: process.execPath, args: [join(SCRIPTS, 'confluent-kafka-javascript.mjs'), builtDir('clients').confluentKafkaJavascript.dir] }),
    supports: {
      'topic-configs': 'its admin client (1.10) has no DescribeConfigs/AlterConfigs',
      ...noShare('its librdkafka 2.15 has a share consumer (KIP-932), but the binding (1.10) does not expose it'),
    },
  },
  {
    name: 'node-rdkafka',
    title: 'node-rdkafka',
    language: 'JavaScript',
    version: () => `${bindingVersion('node-rdkafka', builtDir('clients').nodeRdkafka.dir)} (linked against the librdkafka ${BUILT_FROM}; the package bundles 2.12)`,
    beyondGregor: LIBRDKAFKA_215_BEYOND,
    headers: true,
    prepare: async () => {
      built.clients = await nodeClients();
    },
    command: () => ({ cmd: process.execPath, args: [join(SCRIPTS, 'node-rdkafka.mjs'), builtDir('clients').nodeRdkafka.dir] }),
    supports: {
      'topic-configs': 'its AdminClient has createTopic, deleteTopic and createPartitions only',
      ...noShare('the librdkafka 2.15 it is linked against has a share consumer (KIP-932), but the binding (3.6) does not expose it'),
    },
  },
];

function quietCheck(cmd, args, message) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    throw new Error(message);
  }
}
