#!/usr/bin/env node
// `npm run test:compat`: Gregor against real Kafka clients nobody here wrote.
//
//   node test/compat/run.mjs [--only kcat,kafkajs] [--no-build] [--keep] [--parallel N] [--cli path/to/cli.js]
//
// Builds if needed, starts two brokers through the `gregor` CLI (A: the main
// one, which also serves SSL, SASL_PLAINTEXT and SASL_SSL listeners and has an
// authorizer, for the security rows (security.mjs); B: auto-create off and a
// small message.max.bytes, for the error paths), runs every client's scenario script (phase 1), then has every client
// read what every other one produced (phase 2). Prints the matrix, writes
// docs/compatibility.md (full runs only) and exits non-zero on any fail.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { apiVersions, startGregor } from './broker.mjs';
import { CLIENTS } from './clients.mjs';
import { crossMessages, crossTopics, diffMessages, ERR_MESSAGE_MAX_BYTES, judge, judgeConsumerProtocolWire, judgeShareGroupWire, planClient, SCENARIOS, setupTopics } from './scenarios.mjs';
import { renderMarkdown, renderText } from './report.mjs';
import { createAcls, createScramUser, makeCertificates, SCRAM_USER, SECURE_LISTENERS, securityOverrides, USERS } from './security.mjs';
import { startWireLog } from './wire-log.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const started = Date.now();

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string' },
    'no-build': { type: 'boolean' },
    keep: { type: 'boolean' },
    parallel: { type: 'string', default: '2' },
    cli: { type: 'string' },
  },
});
const CLI = opts.cli ?? join(ROOT, 'dist', 'src', 'cli.js');

const log = (msg) => process.stdout.write(`[compat ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);

// ------------------------------------------------------------------ build

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfNeeded() {
  const sources = Math.max(...['src', 'protocol', 'storage'].map((d) => newestMtime(join(ROOT, d))));
  if (!opts['no-build'] && opts.cli === undefined && (!existsSync(CLI) || statSync(CLI).mtimeMs < sources)) {
    log('building (npm run build)');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
}

// ------------------------------------------------------------------ running one client script

function runScript(client, ctx, tasks, phase) {
  const specPath = join(ctx.tmp, `spec-${client.name}-${phase}.json`);
  writeFileSync(specPath, JSON.stringify({ client: client.name, bootstrap: ctx.bootstrapA, errBootstrap: ctx.bootstrapB, tasks }, null, 1));
  const { cmd, args } = client.command(ctx);
  const logPath = join(ctx.tmp, `client-${client.name}-${phase}.log`);
  const results = new Map();
  const limit = tasks.reduce((sum, t) => sum + t.timeoutMs, 0) + 30_000;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, COMPAT_SPEC: specPath, KAFKAJS_NO_PARTITIONER_WARNING: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      output += chunk;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.startsWith('@@ ')) continue;
        try {
          const r = JSON.parse(line.slice(3));
          results.set(r.id, r);
        } catch (err) {
          output += `\n[runner] unparsable result line: ${err.message}\n`;
        }
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[runner] killed after ${limit} ms\n`;
      child.kill('SIGKILL');
    }, limit);
    child.on('error', (err) => (output += `\n[runner] ${err.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pending.startsWith('@@ ')) output += `\n[runner] truncated result line (${pending.length} characters, no newline)\n`;
      writeFileSync(logPath, output);
      resolve({ results, exit: code ?? signal, logPath, output });
    });
  });
}

async function pool(items, size, fn) {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(size, queue.length) }, async () => {
    while (queue.length > 0) await fn(queue.shift());
  }));
}

function record(cells, client, task, r, ctx, run) {
  if (r === undefined) {
    const lines = run.output.trim().split('\n');
    const firstError = lines.find((l) => /^\[runner\]|error|exception|panic|killed/i.test(l) && !l.startsWith('@@ '));
    const tail = firstError ?? lines.slice(-3).join(' / ');
    cells[task.id] = { status: 'fail', detail: `no result (script exit ${run.exit}; ${run.logPath}): ${tail}`.slice(0, 600) };
    return;
  }
  if (task.refusal !== undefined) {
    const refused = !r.ok && new RegExp(task.refusal.brokerError, 'i').test(r.error);
    cells[task.id] = refused
      ? { status: 'n/a', detail: `${task.refusal.reason}; checked: the broker refused it as Kafka does (${r.error})`, ms: r.ms }
      : { status: 'fail', detail: `expected the broker to refuse with /${task.refusal.brokerError}/, got ${r.ok ? 'success' : r.error}`, ms: r.ms };
    return;
  }
  if (!r.ok) {
    cells[task.id] = { status: 'fail', detail: r.error, ms: r.ms };
    return;
  }
  try {
    const note = judge(task, r.data, client, ctx);
    cells[task.id] = { status: 'pass', detail: note ?? undefined, ms: r.ms, data: task.kind === 'cross-read' ? r.data : undefined };
  } catch (err) {
    cells[task.id] = { status: 'fail', detail: err.message, ms: r.ms };
  }
}

// ------------------------------------------------------------------ main

async function main() {
  buildIfNeeded();
  const only = opts.only?.split(',').map((s) => s.trim());
  const clients = only === undefined ? CLIENTS : CLIENTS.filter((c) => only.includes(c.name));
  if (only !== undefined && clients.length !== only.length) throw new Error(`unknown client in --only; known: ${CLIENTS.map((c) => c.name)}`);

  const tmp = mkdtempSync(join(tmpdir(), 'gregor-compat-'));
  const ctx = { tmp, metaTopic: 'compat-meta', crossTopics: [] };
  const brokers = [];
  const wires = [];
  const cells = Object.fromEntries(clients.map((c) => [c.name, {}]));
  try {
    // Go builds and librdkafka's (on its first run) take a while: start them before anything else.
    const prepared = new Map(clients.map((c) => [c.name, Promise.resolve().then(() => c.prepare(ctx)).then(() => null, (err) => err)]));

    // Clients reach each broker through a proxy that notes the API key and version of every request.
    const listen = {};
    const wireA = await startWireLog(() => listen.a);
    const wireB = await startWireLog(() => listen.b);
    wires.push(wireA, wireB);
    // Broker A serves the security rows too: SSL, SASL_PLAINTEXT and SASL_SSL listeners (not proxied), an authorizer.
    const certs = makeCertificates(join(tmp, 'certs'));
    const a = await startGregor({
      cli: CLI,
      dataDir: join(tmp, 'data-a'),
      logFile: join(tmp, 'gregor-a.log'),
      overrides: ['group.initial.rebalance.delay.ms=100', ...securityOverrides(certs)],
      advertisedPort: wireA.port,
      moreListeners: SECURE_LISTENERS,
    });
    brokers.push(a);
    listen.a = a.listenPort;
    const b = await startGregor({
      cli: CLI,
      dataDir: join(tmp, 'data-b'),
      logFile: join(tmp, 'gregor-b.log'),
      overrides: ['group.initial.rebalance.delay.ms=100', 'auto.create.topics.enable=false', `message.max.bytes=${ERR_MESSAGE_MAX_BYTES}`],
      advertisedPort: wireB.port,
    });
    brokers.push(b);
    listen.b = b.listenPort;
    log(`broker A: ${a.readyLine}`);
    log(`broker B (auto-create off, message.max.bytes=${ERR_MESSAGE_MAX_BYTES}) on ${b.bootstrap}`);
    ctx.security = { listeners: a.listeners, ca: certs.ca, users: USERS, scramUser: SCRAM_USER };
    log(`broker A's security listeners: ${Object.entries(a.listeners).map(([name, at]) => `${name} ${at}`).join(', ')}`);
    Object.assign(ctx, { bootstrapA: a.bootstrap, bootstrapB: b.bootstrap, host: a.host, portA: a.port, nodeId: a.nodeId, dataDirA: a.dataDir, dataDirB: b.dataDir });
    const apis = await apiVersions('127.0.0.1', a.listenPort);
    ctx.apiKeys = new Set(apis.keys());
    ctx.apiVersions = apis;
    log(`broker serves API keys ${[...apis.keys()].sort((x, y) => x - y).join(',')}`);

    const setup = setupTopics(clients, ctx);
    await createTopics(a.bootstrap, setup.a);
    await createTopics(b.bootstrap, setup.b);
    // The sasl-scram row's SCRAM user, made here before the clients run (so that each cell tests only its client's login), and the acl row's ACLs.
    await createScramUser(join(ROOT, 'dist'), '127.0.0.1', a.listenPort, SCRAM_USER);
    await createAcls(a.bootstrap, clients.map((c) => ({ allowed: `${c.name}-acl-allowed`, refused: `${c.name}-acl-refused` })));

    // Phase 1: each client's own scenarios (cross-client ones need two clients: --only may run one).
    const plans = new Map(clients.map((c) => [c.name, planClient(c, ctx, 1)]));
    if (clients.length < 2) {
      for (const [name, plan] of plans) {
        plan.tasks = plan.tasks.filter((t) => t.kind !== 'cross-produce');
        cells[name]['cross-produce'] = cells[name]['cross-read'] = { status: 'skipped', detail: 'needs two clients in the run' };
      }
    }
    await pool(clients, Number(opts.parallel), async (client) => {
      const plan = plans.get(client.name);
      Object.assign(cells[client.name], plan.cells);
      const prepError = await prepared.get(client.name);
      if (prepError !== null) {
        for (const t of plan.tasks) cells[client.name][t.id] = { status: 'fail', detail: `client unavailable: ${prepError.message.split('\n').slice(0, 3).join(' ')}` };
        log(`${client.name}: unavailable: ${prepError.message.split('\n')[0]}`);
        return;
      }
      log(`${client.name}: phase 1, ${plan.tasks.length} scenarios`);
      const run = await runScript(client, ctx, plan.tasks, 1);
      for (const t of plan.tasks) record(cells[client.name], client, t, run.results.get(t.id), ctx, run);
      const failed = plan.tasks.filter((t) => cells[client.name][t.id].status === 'fail').map((t) => t.id);
      log(`${client.name}: phase 1 done${failed.length ? `, failed: ${failed.join(', ')}` : ''}`);
    });

    // Phase 2: every client reads what every other one produced.
    const producers = clients.filter((c) => cells[c.name]['cross-produce']?.status === 'pass');
    ctx.crossTopics = producers.flatMap((c) => crossTopics(c).map((t) => ({ ...t, count: crossMessages(c).length, producer: c })));
    await pool(clients.length < 2 ? [] : clients, Number(opts.parallel), async (client) => {
      const plan = planClient(client, ctx, 2);
      Object.assign(cells[client.name], plan.cells);
      if (plan.tasks.length === 0 || (await prepared.get(client.name)) !== null) return;
      if (ctx.crossTopics.length === 0) {
        cells[client.name]['cross-read'] = { status: 'fail', detail: 'no client produced cross-client data' };
        return;
      }
      log(`${client.name}: phase 2, reading ${ctx.crossTopics.length} topics`);
      const run = await runScript(client, ctx, plan.tasks, 2);
      for (const t of plan.tasks) record(cells[client.name], client, t, run.results.get(t.id), ctx, run);
    });
    ctx.crossPairs = judgeCross(clients, cells, ctx);
    // Before the brokers stop: their shutdown closes connections with long polls waiting.
    ctx.wire = { byClient: mergeWire(wires.map((w) => w.byClient())), closedOn: wires.flatMap((w) => w.closedOn()) };
    judgeWire(clients, plans, cells, ctx);
  } finally {
    for (const broker of brokers) await broker.stop();
    for (const wire of wires) await wire.close();
    if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  const versions = Object.fromEntries(clients.map((c) => [c.name, versionOf(c)]));
  const env = { node: process.versions.node, gregor: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, go: goVersion() };
  process.stdout.write(`\n${renderText(clients, cells, versions, ctx)}\n`);
  if (only === undefined) {
    writeFileSync(join(ROOT, 'docs', 'compatibility.md'), renderMarkdown(clients, cells, versions, env, ctx.crossPairs ?? [], ctx));
    log('wrote docs/compatibility.md');
  }
  const counts = { pass: 0, fail: 0, 'n/a': 0, pending: 0, skipped: 0 };
  for (const c of clients) for (const s of SCENARIOS) counts[cells[c.name][s.id]?.status ?? 'fail']++;
  log(`done in ${seconds}s`);
  process.stdout.write(`compat: ${counts['n/a']} not supported by the client (n/a), ${counts.pending} pending broker features\n`);
  process.stdout.write(`compat: ${counts.pass} passed, ${counts.fail} failed\n`);
  process.exitCode = counts.fail > 0 ? 1 : 0;
}

/** Rows whose passed cells the wire log must confirm, by kind: what the client id of the task must have sent. */
const WIRE_JUDGES = { 'consumer-protocol': judgeConsumerProtocolWire, 'share-group': judgeShareGroupWire };

/**
 * What the wire log says of a passed cell: the consumer-protocol row's members must have sent
 * ConsumerGroupHeartbeat, the share-group row's consumers ShareGroupHeartbeat and ShareFetch.
 */
function judgeWire(clients, plans, cells, ctx) {
  for (const client of clients) {
    for (const task of plans.get(client.name).tasks) {
      const cell = cells[client.name][task.id];
      const wireJudge = WIRE_JUDGES[task.kind];
      if (wireJudge === undefined || cell?.status !== 'pass') continue;
      try {
        const note = wireJudge(task, ctx.wire.byClient.get(task.clientId));
        cell.detail = [cell.detail, note].filter(Boolean).join('; ');
      } catch (err) {
        cells[client.name][task.id] = { status: 'fail', detail: err.message, ms: cell.ms };
      }
    }
  }
}

/** Compares what each reader read with what each producer sent; both cells of a mismatching pair fail. */
function judgeCross(clients, cells, ctx) {
  const pairs = [];
  for (const reader of clients.filter((c) => cells[c.name]['cross-read']?.status === 'pass')) {
    const read = cells[reader.name]['cross-read'].data?.topics ?? {};
    const errors = cells[reader.name]['cross-read'].data?.errors ?? {};
    for (const producer of new Set(ctx.crossTopics.map((t) => t.producer))) {
      if (producer === reader) continue;
      const diffs = [];
      const known = [];
      for (const t of ctx.crossTopics.filter((x) => x.producer === producer)) {
        const failed = errors[t.topic];
        const diff = failed !== undefined ? `read failed: ${failed}` : diffMessages(crossMessages(producer), read[t.topic], producer.headers && reader.headers);
        const issue = (reader.knownIssues ?? []).find((k) => k.producers.includes(producer.name) && k.codec === t.codec);
        if (issue !== undefined) known.push(diff === null ? `${t.codec}: known issue did not reproduce (${issue.reason})` : `${t.codec}: known client issue: ${issue.reason}`);
        else if (diff !== null) diffs.push(`${t.codec}: ${diff}`);
      }
      pairs.push({ producer, reader, diff: diffs.length === 0 ? null : diffs.join('; '), known });
    }
  }
  for (const c of clients) {
    const cr = cells[c.name]['cross-read'];
    if (cr?.status === 'pass') {
      delete cr.data;
      const mine = pairs.filter((p) => p.reader === c);
      const bad = mine.filter((p) => p.diff !== null);
      const known = mine.flatMap((p) => p.known.map((k) => `${p.producer.name}'s ${k}`));
      if (bad.length > 0) Object.assign(cr, { status: 'fail', detail: [...bad.map((p) => `${p.producer.name}'s data: ${p.diff}`), ...known].join('; ') });
      else cr.detail = [`read the data of ${mine.length} other clients`, ...known].join('; ');
    }
    const cp = cells[c.name]['cross-produce'];
    if (cp?.status === 'pass') {
      const mine = pairs.filter((p) => p.producer === c);
      const bad = mine.filter((p) => p.diff !== null);
      if (mine.length === 0) Object.assign(cp, { status: 'fail', detail: 'no other client read its data' });
      else if (bad.length > 0) Object.assign(cp, { status: 'fail', detail: bad.map((p) => `${p.reader.name} read: ${p.diff}`).join('; ') });
      else cp.detail = `read identically by ${mine.length} other clients`;
    }
  }
  return pairs;
}

async function createTopics(bootstrap, topics) {
  const admin = new Kafka({ clientId: 'compat-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map(([topic, numPartitions]) => ({ topic, numPartitions })), waitForLeaders: true });
  await admin.disconnect();
}

/** The requests of both brokers' proxies, per client id: { apiKey, versions, requests } by API. */
function mergeWire(maps) {
  const out = new Map();
  for (const m of maps) {
    for (const [clientId, apis] of m) {
      const byKey = new Map((out.get(clientId) ?? []).map((a) => [a.apiKey, a]));
      for (const a of apis) {
        const had = byKey.get(a.apiKey);
        byKey.set(a.apiKey, had === undefined ? a : { apiKey: a.apiKey, versions: [...new Set([...had.versions, ...a.versions])].sort((x, y) => x - y), requests: had.requests + a.requests });
      }
      out.set(clientId, [...byKey.values()].sort((x, y) => x.apiKey - y.apiKey));
    }
  }
  return out;
}

function versionOf(client) {
  try {
    return client.version();
  } catch (err) {
    return `unavailable (${err.message})`;
  }
}

function goVersion() {
  try {
    return execFileSync('go', ['version'], { encoding: 'utf8' }).trim().split(' ')[2];
  } catch {
    return 'none';
  }
}

main().catch((err) => {
  process.stderr.write(`compat: ${err.stack ?? err}\n`);
  process.exit(1);
});
