/**
 * A current librdkafka (2.15, built from the source in the npm package
 * @confluentinc/kafka-javascript) for tests that drive its C API: where it is,
 * and how to compile a C program against it.
 *
 *   const rd = await librdkafka215();                        // builds once (about 3 minutes cold), then cached
 *   const bin = await compileWithLibrdkafka(rd, 'producer.c', join(tmp, 'producer'));
 *
 * The build lives in a work dir outside the project ($COMPAT_WORK_DIR or
 * ~/.cache/gregor) and is shared with the compatibility suite
 * (test/compat/librdkafka.mjs, whose opening comment says how it is built and
 * cached); `.ci/run` builds it before the tests, so a test finds it ready. The
 * programs link with an rpath to its lib/, never to the system librdkafka
 * (2.0.2 from Debian). Give a test that builds it a generous timeout.
 *
 *   const dir = await confluentKafkaJavascript();            // @confluentinc/kafka-javascript built against it
 *   const { KafkaJS } = createRequire(import.meta.url)(dir);
 */
import { compileProgram, librdkafka, nodeClients } from '../compat/librdkafka.mjs';

export interface Librdkafka {
  /** "2.15.1" */
  readonly version: string;
  readonly libDir: string;
  /** Holds librdkafka/rdkafka.h (and rdkafkacpp.h, rdkafka_mock.h). */
  readonly includeDir: string;
  /** builtin.features: gzip, snappy, ssl, sasl, lz4, zstd, sasl_gssapi, sasl_plain, sasl_scram, sasl_oauthbearer, http, oidc, ... */
  readonly features: readonly string[];
  /** librdkafka's example programs by name (producer, consumer, idempotent_producer, transactions, ...) and our `driver`. */
  readonly bin: Readonly<Record<string, string>>;
}

/** librdkafka 2.15, built on first use (once per source, across processes) and then found at once. */
export function librdkafka215(): Promise<Librdkafka> {
  return librdkafka({ log: () => {} }) as Promise<Librdkafka>;
}

/**
 * Compiles a C program (C++ for a `.cpp` source) against `rd`: `#include <librdkafka/rdkafka.h>`,
 * linked with `-lrdkafka` and an rpath to its lib/. Resolves to `out`; rejects with the compiler's output.
 */
export function compileWithLibrdkafka(rd: Librdkafka, source: string, out: string, extraArgs: string[] = []): Promise<string> {
  return compileProgram(rd, source, out, { extraArgs }) as Promise<string>;
}

/**
 * The directory of @confluentinc/kafka-javascript with its binding built against librdkafka 2.15 (for
 * `createRequire(import.meta.url)(dir)`); built on first use with librdkafka (about a minute more), then cached.
 */
export async function confluentKafkaJavascript(): Promise<string> {
  const clients = (await nodeClients({ log: () => {} })) as { confluentKafkaJavascript: { dir: string } };
  return clients.confluentKafkaJavascript.dir;
}
