/**
 * Builds the native load generators at bench time into a temporary directory (binaries are never
 * committed): bench/native/loadgen.c (ours, on librdkafka) and, when Debian's librdkafka-dev ships its
 * source, librdkafka's examples/rdkafka_performance.c compiled against the stand-ins for its two
 * librdkafka-internal headers in bench/native/ (rd.h, rdtime.h). Builds are cached by source hash.
 *
 * Needs gcc and librdkafka-dev: apt-get install -y --no-install-recommends librdkafka-dev gcc make
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeTools {
  /** bench/native/loadgen.c, built. */
  readonly loadgen: string;
  /** librdkafka's rdkafka_performance, or null when its source is not installed. */
  readonly rdkafkaPerformance: string | null;
  /** librdkafka's version string (rd_kafka_version_str). */
  readonly librdkafkaVersion: string;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const nativeDir = join(root, 'bench/native');
const EXAMPLES = '/usr/share/doc/librdkafka-dev/examples';

function hashOf(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

function compile(source: string, out: string, includeDirs: string[]): void {
  execFileSync('gcc', ['-O2', '-Wall', ...includeDirs.map((d) => `-I${d}`), '-o', out, source, '-lrdkafka', '-lpthread'], { stdio: 'pipe' });
}

/** The example's source, plain or gzipped as Debian may ship it; null when absent. */
function performanceSource(): string | null {
  const plain = join(EXAMPLES, 'rdkafka_performance.c');
  if (existsSync(plain)) return readFileSync(plain, 'utf8');
  if (existsSync(`${plain}.gz`)) return gunzipSync(readFileSync(`${plain}.gz`)).toString('utf8');
  return null;
}

export function buildNativeTools(): NativeTools {
  if (!existsSync('/usr/include/librdkafka/rdkafka.h')) {
    throw new Error('librdkafka-dev is not installed: apt-get update && apt-get install -y --no-install-recommends librdkafka-dev gcc make');
  }
  const loadgenSource = readFileSync(join(nativeDir, 'loadgen.c'));
  const standIns = [readFileSync(join(nativeDir, 'rd.h')), readFileSync(join(nativeDir, 'rdtime.h'))];
  const perf = performanceSource();
  const dir = join(tmpdir(), `gregor-bench-native-${hashOf(loadgenSource, ...standIns, perf ?? '')}`);
  mkdirSync(dir, { recursive: true });
  const loadgen = join(dir, 'loadgen');
  if (!existsSync(loadgen)) compile(join(nativeDir, 'loadgen.c'), loadgen, []);
  let rdkafkaPerformance: string | null = null;
  if (perf !== null) {
    rdkafkaPerformance = join(dir, 'rdkafka_performance');
    if (!existsSync(rdkafkaPerformance)) {
      // the example includes "../src/rd.h" (its own source tree); our stand-ins are found by name instead
      const src = join(dir, 'rdkafka_performance.c');
      writeFileSync(src, perf.replace('#include "../src/rd.h"', '#include "rd.h"'));
      try {
        compile(src, rdkafkaPerformance, [nativeDir, '/usr/include/librdkafka']);
      } catch (err) {
        process.stderr.write(`rdkafka_performance did not build (${(err as Error).message.split('\n')[0]}); continuing without it\n`);
        rdkafkaPerformance = null;
      }
    }
  }
  const librdkafkaVersion = execFileSync(loadgen, ['version'], { encoding: 'utf8' }).trim();
  return { loadgen, rdkafkaPerformance, librdkafkaVersion };
}
