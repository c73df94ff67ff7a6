// librdkafka 2.15 built from source, and the two Node.js clients built on it,
// for the compatibility matrix and for any test that needs a current
// librdkafka (transactions, KIP-848 groups, share groups, TLS/SASL).
//
//   import { librdkafka, nodeClients, compileProgram } from '../compat/librdkafka.mjs';
//   const rd = await librdkafka();           // { version, libDir, includeDir, bin: { driver, rdkafka_performance, ... }, ... }
//   const clients = await nodeClients();     // { librdkafka: rd, confluentKafkaJavascript: { dir, version }, nodeRdkafka: { dir, version } }
//   const { KafkaJS } = createRequire(import.meta.url)(clients.confluentKafkaJavascript.dir);
//
//   node test/compat/librdkafka.mjs          # builds everything once, prints the paths as JSON
//
// Everything comes from the npm registry, pinned by node-clients/package-lock.json:
// @confluentinc/kafka-javascript ships librdkafka's source (deps/librdkafka), and
// node-rdkafka ships librdkafka's examples/ (of its own, older librdkafka).
// Nothing is installed into the project: the two packages would make every
// `npm install` of Gregor download and fail to build them (their install step
// fetches a prebuilt binary). They go into a work dir, $COMPAT_WORK_DIR or
// ~/.cache/gregor, installed with --ignore-scripts and built here:
//
//   <work>/librdkafka-<version>-<hash of its source>/
//       src/        the source, configured and built (make libs)
//       lib/ include/librdkafka/   what `make install` put there
//       bin/        librdkafka's C and C++ examples and our driver (clients/rdkafka_driver.c),
//                   linked against lib/ with an rpath, so they never load the system librdkafka
//       build.json  written last: the build is complete (its features, its time)
//   <work>/node-clients-<hash of the lock file>-node<ABI>/
//       node_modules/@confluentinc/kafka-javascript, node_modules/node-rdkafka, each with
//       build/Release/*.node built by its own binding.gyp with BUILD_LIBRDKAFKA=0 against the
//       librdkafka above (-iquote puts its headers before any system ones, an rpath its library)
//
// Each step is done once and skipped when its stamp is there; a lock directory
// beside each target makes concurrent first uses (vitest workers, the compat
// runner) wait for one build instead of racing. librdkafka is configured with
// SSL, SASL (GSSAPI through Cyrus libsasl2; PLAIN, SCRAM, OAUTHBEARER built in),
// OIDC (libcurl), zlib, zstd, lz4 and its own snappy, all required: a missing
// -dev package fails the build rather than quietly leaving a feature out (the
// Debian packages are in .ci/run). It takes about two minutes on two cores;
// each binding about one.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLIENTS_SPEC = join(HERE, 'node-clients');
const DRIVER_SOURCE = join(HERE, 'clients', 'rdkafka_driver.c');

/** The features librdkafka must be built with (`builtin.features`). */
export const REQUIRED_FEATURES = ['gzip', 'snappy', 'ssl', 'sasl', 'lz4', 'zstd', 'sasl_gssapi', 'sasl_plain', 'sasl_scram', 'sasl_oauthbearer', 'http', 'oidc'];
const CONFIGURE_FLAGS = ['--enable-ssl', '--enable-gssapi', '--enable-zlib', '--enable-zstd', '--enable-lz4-ext', '--enable-curl'];
/** The Debian packages the configure flags above need. */
export const DEBIAN_PACKAGES = ['libssl-dev', 'libsasl2-dev', 'libzstd-dev', 'liblz4-dev', 'zlib1g-dev', 'libcurl4-openssl-dev'];

/** Where builds are cached (not GREGOR_*: the broker reads those variables as its configuration). */
export const workDir = () => process.env.COMPAT_WORK_DIR ?? join(homedir(), '.cache', 'gregor');

const defaultLog = (msg) => process.stderr.write(`[librdkafka] ${msg}\n`);

// ------------------------------------------------------------------ small tools

const sha = (data) => createHash('sha256').update(data).digest('hex');

/** A hash of every file under `dir` (paths and contents), in a stable order. */
function treeHash(dir) {
  const h = createHash('sha256');
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else h.update(`${relative(dir, p)}\0${st.size}\0`).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** Runs a command, its output appended to `logFile`; rejects with the log's tail when it fails. */
function run(cmd, args, { cwd, env, logFile }) {
  appendFileSync(logFile, `\n$ (cd ${cwd} && ${cmd} ${args.join(' ')})\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = (chunk) => appendFileSync(logFile, chunk);
    child.stdout.on('data', out);
    child.stderr.on('data', out);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}) in ${cwd}; log ${logFile}:\n${tail}`));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Runs `fn` holding `<target>.lock` (a directory with the holder's pid); a dead holder's lock is taken over. */
async function withLock(target, log, fn) {
  const lock = `${target}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  let told = false;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let pid = 0;
    try {
      pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // Just created, pid not written yet; or left without one by a crash.
    }
    const stale = pid > 0 ? !alive(pid) : Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 10_000;
    if (stale) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lock} is held by process ${pid} for more than 30 minutes`);
    if (!told) log(`waiting for process ${pid}, which builds ${target}`);
    told = true;
    await sleep(1000);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Memoizes an async step per process (keyed by its arguments). */
const steps = new Map();
function once(key, fn) {
  if (!steps.has(key)) {
    const p = fn();
    steps.set(key, p);
    p.catch(() => steps.delete(key)); // a failed step may be tried again
  }
  return steps.get(key);
}

// ------------------------------------------------------------------ the npm packages

/** The two npm packages installed (not built) for this Node ABI; resolves to the npm prefix. */
export function installPackages({ log = defaultLog } = {}) {
  const lock = readFileSync(join(CLIENTS_SPEC, 'package-lock.json'));
  const dir = join(workDir(), `node-clients-${sha(lock).slice(0, 12)}-node${process.versions.modules}`);
  return once(`install ${dir}`, () =>
    withLock(dir, log, async () => {
      const stamp = join(dir, '.installed');
      if (existsSync(stamp)) return dir;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const f of ['package.json', 'package-lock.json']) cpSync(join(CLIENTS_SPEC, f), join(dir, f));
      log(`npm ci (pinned @confluentinc/kafka-javascript, node-rdkafka) into ${dir}`);
      const started = Date.now();
      await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, logFile: join(dir, 'install.log') });
      writeFileSync(stamp, JSON.stringify({ seconds: (Date.now() - started) / 1000 }));
      return dir;
    }),
  );
}

const packageDir = (prefix, name) => join(prefix, 'node_modules', ...name.split('/'));
const packageVersion = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;

// ------------------------------------------------------------------ librdkafka

function versionOf(srcDir) {
  const m = /#define RD_KAFKA_VERSION\s+0x([0-9a-f]{8})/i.exec(readFileSync(join(srcDir, 'src', 'rdkafka.h'), 'utf8'));
  if (m === null) throw new Error(`no RD_KAFKA_VERSION in ${srcDir}/src/rdkafka.h`);
  const v = Number.parseInt(m[1], 16);
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}`;
}

/** The C and C++ examples built into bin/ (the C++ ones named `<name>_cpp`, as librdkafka's Makefile does). */
const EXAMPLES_C = [
  'rdkafka_example', 'rdkafka_performance', 'rdkafka_complex_consumer_example', 'producer', 'consumer', 'idempotent_producer',
  'transactions', 'transactions-older-broker', 'describe_cluster', 'describe_topics', 'describe_consumer_groups',
  'list_consumer_groups', 'list_consumer_group_offsets', 'alter_consumer_group_offsets', 'list_offsets', 'delete_records',
  'incremental_alter_configs', 'user_scram', 'misc',
];
const EXAMPLES_CPP = ['rdkafka_example', 'producer', 'rdkafka_complex_consumer_example', 'rdkafka_consume_batch'];

function paths(root, version, sourceHash, stamp) {
  const bin = join(root, 'bin');
  return {
    version,
    sourceHash,
    root,
    libDir: join(root, 'lib'),
    /** Holds librdkafka/rdkafka.h, librdkafka/rdkafkacpp.h, librdkafka/rdkafka_mock.h. */
    includeDir: join(root, 'include'),
    pkgConfigDir: join(root, 'lib', 'pkgconfig'),
    /** librdkafka's own source tree (src/, src-cpp/, tests/), configured and built. */
    sourceDir: join(root, 'src'),
    features: stamp.features,
    buildSeconds: stamp.seconds,
    bin: {
      /** Our kcat-like driver (test/compat/clients/rdkafka_driver.c). */
      driver: join(bin, 'rdkafka_driver'),
      ...Object.fromEntries(EXAMPLES_C.map((n) => [n, join(bin, n)])),
      ...Object.fromEntries(EXAMPLES_CPP.map((n) => [`${n}_cpp`, join(bin, `${n}_cpp`)])),
    },
  };
}

/**
 * Compiles a C (or, for `.cpp`, C++) program against the built librdkafka:
 * `#include <librdkafka/rdkafka.h>`; linked with an rpath to its lib/.
 */
export async function compileProgram(rd, source, out, { extraArgs = [], logFile = `${out}.log` } = {}) {
  const cpp = source.endsWith('.cpp');
  const args = [
    '-O2', '-g', '-Wall', '-I', rd.includeDir, '-I', join(rd.includeDir, 'librdkafka'),
    ...extraArgs, '-o', out, source,
    '-L', rd.libDir, ...(cpp ? ['-lrdkafka++'] : []), '-lrdkafka', '-lm', '-lpthread', `-Wl,-rpath,${rd.libDir}`,
  ];
  writeFileSync(logFile, '');
  await run(cpp ? 'g++' : 'gcc', args, { cwd: dirname(source), logFile });
  return out;
}

/** Builds the driver again when its source changed (it lives in this repo; librdkafka does not). */
async function ensureDriver(rd, log) {
  const hash = sha(readFileSync(DRIVER_SOURCE));
  const stamp = join(rd.root, 'bin', '.rdkafka_driver.sha256');
  if (existsSync(rd.bin.driver) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  await withLock(rd.bin.driver, log, async () => {
    if (existsSync(rd.bin.driver) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
    log(`compiling ${DRIVER_SOURCE}`);
    const tmp = `${rd.bin.driver}.tmp-${process.pid}`;
    await compileProgram(rd, DRIVER_SOURCE, tmp, { extraArgs: ['-Werror', '-std=gnu11'], logFile: join(rd.root, 'driver.log') });
    cpSync(tmp, rd.bin.driver);
    rmSync(tmp);
    writeFileSync(stamp, hash);
  });
}

/**
 * librdkafka built from the source in @confluentinc/kafka-javascript (once per
 * source; later calls find build.json and return at once), with its examples and
 * our driver. Resolves to its paths.
 */
export function librdkafka({ log = defaultLog } = {}) {
  return once('librdkafka', async () => {
    const prefix = await installPackages({ log });
    const src = join(packageDir(prefix, '@confluentinc/kafka-javascript'), 'deps', 'librdkafka');
    const version = versionOf(src);
    const sourceHash = treeHash(src).slice(0, 12);
    const root = join(workDir(), `librdkafka-${version}-${sourceHash}`);
    const stampFile = join(root, 'build.json');
    const rd = await withLock(root, log, async () => {
      if (existsSync(stampFile)) return paths(root, version, sourceHash, JSON.parse(readFileSync(stampFile, 'utf8')));
      rmSync(root, { recursive: true, force: true });
      mkdirSync(join(root, 'bin'), { recursive: true });
      const logFile = join(root, 'build.log');
      writeFileSync(logFile, '');
      const started = Date.now();
      log(`building librdkafka ${version} from ${src} into ${root} (about 2 minutes; log: ${logFile})`);
      cpSync(src, join(root, 'src'), { recursive: true });
      const cwd = join(root, 'src');
      try {
        await run('./configure', [`--prefix=${root}`, ...CONFIGURE_FLAGS], { cwd, logFile });
      } catch (err) {
        throw new Error(`${err.message}\n(librdkafka needs the Debian packages ${DEBIAN_PACKAGES.join(' ')})`);
      }
      const jobs = String(availableParallelism());
      await run('make', ['-j', jobs, 'libs'], { cwd, logFile });
      await run('make', ['install-subdirs'], { cwd, logFile });
      // librdkafka's examples: the npm package of librdkafka 2.15 leaves them out; node-rdkafka
      // ships those of its librdkafka. They use the public API only (rdkafka_performance also
      // the internal rd.h, from this source tree), so they build against this version.
      const examples = join(packageDir(prefix, 'node-rdkafka'), 'deps', 'librdkafka', 'examples');
      cpSync(examples, join(cwd, 'examples'), { recursive: true });
      const lib = paths(root, version, sourceHash, { features: [], seconds: 0 });
      for (const n of EXAMPLES_C) {
        await compileProgram(lib, join(cwd, 'examples', `${n}.c`), join(root, 'bin', n), { extraArgs: ['-I', join(cwd, 'src')], logFile: join(root, 'examples.log') });
      }
      for (const n of EXAMPLES_CPP) {
        await compileProgram(lib, join(cwd, 'examples', `${n}.cpp`), join(root, 'bin', `${n}_cpp`), { logFile: join(root, 'examples.log') });
      }
      const features = await builtinFeatures(lib.bin.rdkafka_example);
      const missing = REQUIRED_FEATURES.filter((f) => !features.includes(f));
      if (missing.length > 0) throw new Error(`librdkafka ${version} was built without ${missing.join(', ')} (features: ${features.join(',')}); log ${logFile}`);
      const stamp = { version, sourceHash, features, seconds: Math.round((Date.now() - started) / 1000), configure: CONFIGURE_FLAGS };
      writeFileSync(stampFile, JSON.stringify(stamp, null, 1));
      log(`librdkafka ${version} built in ${stamp.seconds} s`);
      return paths(root, version, sourceHash, stamp);
    });
    await ensureDriver(rd, log);
    return rd;
  });
}

function builtinFeatures(rdkafkaExample) {
  return new Promise((resolve, reject) => {
    const child = spawn(rdkafkaExample, ['-X', 'builtin.features'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', () => resolve((/builtin\.features = (\S+)/.exec(out)?.[1] ?? '').split(',').filter(Boolean)));
  });
}

// ------------------------------------------------------------------ the Node.js bindings

/** Where this Node's headers are (node-gyp's nodedir): beside its binary, in include/node. */
function nodeDir() {
  const dir = dirname(dirname(process.execPath));
  if (!existsSync(join(dir, 'include', 'node', 'node.h'))) {
    throw new Error(`no Node.js headers in ${dir}/include/node (Node ${process.version} at ${process.execPath}): node-gyp would download them`);
  }
  return dir;
}

/** Builds one package's binding with its own scripts (node-gyp configure, build) against `rd`. */
async function buildBinding(prefix, name, rd, log) {
  const dir = packageDir(prefix, name);
  const stampFile = join(dir, 'build', '.gregor-built.json');
  const want = { librdkafka: rd.root, node: process.version };
  const done = () => existsSync(stampFile) && JSON.stringify(JSON.parse(readFileSync(stampFile, 'utf8')).against) === JSON.stringify(want);
  if (done()) return dir;
  await withLock(join(dir, 'build'), log, async () => {
    if (done()) return;
    rmSync(join(dir, 'build'), { recursive: true, force: true });
    const logFile = join(prefix, `build-${name.replace('/', '+')}.log`);
    writeFileSync(logFile, '');
    log(`building ${name}'s binding against librdkafka ${rd.version} for Node ${process.version} (about a minute; log: ${logFile})`);
    const started = Date.now();
    const env = {
      BUILD_LIBRDKAFKA: '0',
      CXXFLAGS: `-iquote ${join(rd.includeDir, 'librdkafka')}`,
      LDFLAGS: `-L${rd.libDir} -Wl,-rpath,${rd.libDir}`,
      JOBS: String(availableParallelism()),
      npm_config_nodedir: nodeDir(),
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
    };
    await run('npm', ['run', 'configure'], { cwd: dir, env, logFile });
    await run('npm', ['run', 'build'], { cwd: dir, env, logFile });
    writeFileSync(stampFile, JSON.stringify({ against: want, seconds: Math.round((Date.now() - started) / 1000) }));
  });
  return dir;
}

/**
 * @confluentinc/kafka-javascript and node-rdkafka, installed for this Node ABI
 * and built against librdkafka(); resolves to their package directories
 * (load them with createRequire(import.meta.url)(dir)).
 */
export function nodeClients({ log = defaultLog } = {}) {
  return once(`clients ${process.versions.modules}`, async () => {
    const rd = await librdkafka({ log });
    const prefix = await installPackages({ log });
    const ckjs = await buildBinding(prefix, '@confluentinc/kafka-javascript', rd, log);
    const nrd = await buildBinding(prefix, 'node-rdkafka', rd, log);
    return {
      librdkafka: rd,
      confluentKafkaJavascript: { dir: ckjs, version: packageVersion(ckjs) },
      nodeRdkafka: { dir: nrd, version: packageVersion(nrd) },
    };
  });
}

// ------------------------------------------------------------------ command line

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  try {
    const what = process.argv.includes('--no-bindings') ? await librdkafka() : await nodeClients();
    process.stdout.write(`${JSON.stringify(what, null, 2)}\n`);
    defaultLog(`ready in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (err) {
    defaultLog(err.message);
    process.exitCode = 1;
  }
}
