// Shared plumbing of the Node.js scenario scripts: read the spec the runner
// wrote, run each task with a time limit, report one `@@ {json}` line per task.
// The scripts only observe (what they read back, which error they got); the
// runner (test/compat/run.mjs) judges the observations.
import { readFileSync } from 'node:fs';

export function loadSpec() {
  return JSON.parse(readFileSync(process.env.COMPAT_SPEC, 'utf8'));
}

export function report(id, result) {
  process.stdout.write(`@@ ${JSON.stringify({ id, ...result })}\n`);
}

export function describeError(err) {
  if (err === null || typeof err !== 'object') return String(err);
  const parts = [err.name, err.type, err.code, err.message].filter((p) => p !== undefined && p !== '');
  if (err.cause) parts.push(`cause: ${describeError(err.cause)}`);
  if (Array.isArray(err.errors)) parts.push(...err.errors.map(describeError));
  return parts.join(' | ');
}

export async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; throws after `ms`. */
export async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Runs every task of the spec through `impl[task.kind]`, reporting each; exits when done. */
export async function runTasks(spec, impl, cleanup = async () => {}) {
  for (const task of spec.tasks) {
    const started = Date.now();
    const fn = impl[task.kind];
    try {
      if (fn === undefined) throw new Error(`this script has no '${task.kind}' scenario`);
      const data = await withTimeout(fn(task), task.timeoutMs, task.id);
      report(task.id, { ok: true, data: data ?? {}, ms: Date.now() - started });
    } catch (err) {
      report(task.id, { ok: false, error: describeError(err), ms: Date.now() - started });
    }
  }
  await withTimeout(cleanup(), 10_000, 'cleanup').catch(() => {});
  // A large report can still sit in the pipe's queue: exit once it is written.
  process.stdout.write('', () => process.exit(0));
}

export const text = (b) => (b === null || b === undefined ? null : Buffer.isBuffer(b) || b instanceof Uint8Array ? Buffer.from(b).toString('utf8') : String(b));

/**
 * A security row (tls, sasl-plain, sasl-scram, acl): each step of `task.steps` either produces its messages
 * and reads them back (`roundTrip(step)` resolves with what it read) or, when the broker must refuse it,
 * tries to produce (`refused(step)` resolves with, or throws, the error the client gave). One result per
 * step: { label, read } or { label, error }.
 */
export async function securitySteps(task, { roundTrip, refused }) {
  const steps = [];
  for (const step of task.steps) {
    try {
      if (step.expect === 'ok') steps.push({ label: step.label, read: await roundTrip(step) });
      else {
        const error = await refused(step);
        steps.push(typeof error === 'object' && error !== null ? { label: step.label, ...error } : { label: step.label, error: error ?? undefined });
      }
    } catch (err) {
      steps.push({ label: step.label, error: describeError(err) });
    }
  }
  return { steps };
}

/** A step's connection as librdkafka properties (security.protocol, ssl.ca.location, sasl.*). */
export function rdkafkaSecurity(conn) {
  const props = { 'security.protocol': conn.protocol.toLowerCase() };
  if (conn.ca !== undefined) props['ssl.ca.location'] = conn.ca;
  if (conn.mechanism !== undefined) Object.assign(props, { 'sasl.mechanisms': conn.mechanism, 'sasl.username': conn.username, 'sasl.password': conn.password });
  return props;
}
