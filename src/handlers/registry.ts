/**
 * The one list of handlers. It routes requests and answers ApiVersions: we
 * claim exactly the APIs and versions listed here. Handlers register
 * themselves in handlers/index.ts.
 */
import type { Handler } from './handler.js';

const byKey = new Map<number, Handler>();

export function registerHandlers(handlers: readonly Handler[]): void {
  for (const h of handlers) {
    if (byKey.has(h.api.key)) throw new Error(`two handlers for ${h.api.name}`);
    byKey.set(h.api.key, h);
  }
}

export function handlerFor(apiKey: number): Handler | undefined {
  return byKey.get(apiKey);
}

export function supportedApis(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  return [...byKey.values()]
    .sort((a, b) => a.api.key - b.api.key)
    .map((h) => ({ apiKey: h.api.key, minVersion: h.minVersion, maxVersion: h.maxVersion }));
}
