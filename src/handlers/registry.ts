/**
 * The one list of handlers. It routes requests and answers ApiVersions: we
 * claim exactly the APIs and versions listed here, except those registered
 * unlisted (`listed: false`: served when asked, but not in ApiVersions, as
 * Kafka serves the telemetry APIs without listing them when it has no
 * telemetry receiver). Handlers register
 * themselves in handlers/index.ts; rarely used ones register a loader and
 * their module is imported at their API's first request (fewer modules to
 * load at startup), serving Kafka's version range as defineHandler does (or
 * the range it names).
 */
import type { ApiDef } from '../../protocol/index.js';
import type { Handler } from './handler.js';

/** A handler whose module is loaded at its API's first request. */
export interface LazyHandler {
  readonly api: ApiDef;
  /** The highest version the loaded handler serves, when not Kafka's. */
  readonly maxVersion?: number;
  /** false: served, but not listed in ApiVersions. */
  readonly listed?: boolean;
  load(): Promise<Handler>;
}

interface Versions {
  readonly minVersion: number;
  readonly maxVersion: number;
}

const byKey = new Map<number, Handler>();
const lazyByKey = new Map<number, LazyHandler>();
const loading = new Map<number, Promise<Handler>>();

function isLazy(h: Handler | LazyHandler): h is LazyHandler {
  return 'load' in h;
}

export function registerHandlers(handlers: ReadonlyArray<Handler | LazyHandler>): void {
  for (const h of handlers) {
    if (byKey.has(h.api.key) || lazyByKey.has(h.api.key)) throw new Error(`two handlers for ${h.api.name}`);
    if (isLazy(h)) lazyByKey.set(h.api.key, h);
    else byKey.set(h.api.key, h);
  }
}

/** The handler of an API key if it is loaded (see loadHandler). */
export function handlerFor(apiKey: number): Handler | undefined {
  return byKey.get(apiKey);
}

/** The handler of an API key, loading its module if needed; undefined for an API we do not serve. */
export function loadHandler(apiKey: number): Promise<Handler | undefined> | Handler | undefined {
  const loaded = byKey.get(apiKey);
  if (loaded !== undefined) return loaded;
  const lazy = lazyByKey.get(apiKey);
  if (lazy === undefined) return undefined;
  let p = loading.get(apiKey);
  if (p === undefined) {
    p = lazy.load().then((h) => {
      const maxVersion = lazy.maxVersion ?? lazy.api.maxVersion;
      if (h.api.key !== apiKey || h.minVersion !== lazy.api.minVersion || h.maxVersion !== maxVersion) {
        throw new Error(`the handler loaded for ${lazy.api.name} does not serve ${lazy.api.minVersion}-${maxVersion}`);
      }
      byKey.set(apiKey, h);
      return h;
    });
    p.catch(() => loading.delete(apiKey));
    loading.set(apiKey, p);
  }
  return p;
}

/** The versions served for an API key (loaded or not), or undefined. */
export function versionsFor(apiKey: number): Versions | undefined {
  const h = byKey.get(apiKey);
  if (h !== undefined) return h;
  const lazy = lazyByKey.get(apiKey);
  return lazy === undefined ? undefined : { minVersion: lazy.api.minVersion, maxVersion: lazy.maxVersion ?? lazy.api.maxVersion };
}

/** The APIs and versions this broker serves (ApiVersions). */
export function supportedApis(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  const keys = new Set([...byKey.keys(), ...lazyByKey.keys()].filter((key) => lazyByKey.get(key)?.listed !== false));
  return [...keys]
    .sort((a, b) => a - b)
    .map((apiKey) => {
      const v = versionsFor(apiKey)!;
      return { apiKey, minVersion: v.minVersion, maxVersion: v.maxVersion };
    });
}
