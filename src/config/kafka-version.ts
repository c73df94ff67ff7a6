/**
 * Kafka's version strings, as the configs that name one read them:
 * inter.broker.protocol.version, log.message.format.version (broker) and
 * message.format.version (topic). Kafka 3.9 checks them with its
 * MetadataVersion parser and Gregor accepts exactly what it accepts:
 *
 * 1. The known versions are Kafka's MetadataVersion list, each as "release"
 *    or "release-IVn" (0.8.0 … 0.9.0 have no IV suffix; 3.9-IV0 is the last
 *    production one; 4.0-IV0 and 4.0-IV1 are listed but not production).
 * 2. A bare release ("0.10.0", "2.8", "3.9") names its last production
 *    version; 4.0 has none, so "4.0" alone is refused while "4.0-IV1" is not.
 * 3. The string is split at dots (Java's split, trailing empty parts
 *    dropped); only the first three parts are looked at for a version starting
 *    with "0.", the first two otherwise, and only when there are more: so
 *    "0.10.0.0", "0.10.0.1" and "0.8.0.x" read as 0.10.0 and 0.8.0, "2.8.1"
 *    and "1.0.1" as 2.8 and 1.0, while "0.10", "3" and "2.8." stay whole and
 *    are unknown.
 * 4. Anything else: "Version X is not a valid version" (the ConfigException
 *    then reads "Invalid value X for configuration Y: Version X is not a valid
 *    version").
 *
 * Since 3.0 the message format settings are accepted and ignored (the record
 * format follows the request); Gregor stores and describes them as given.
 */

/** Kafka 3.9's MetadataVersion releases and their IV sub-versions ('' = none), oldest first. */
const RELEASES: ReadonlyArray<readonly [release: string, subVersions: readonly string[]]> = [
  ['0.8.0', ['']],
  ['0.8.1', ['']],
  ['0.8.2', ['']],
  ['0.9.0', ['']],
  ['0.10.0', ['IV0', 'IV1']],
  ['0.10.1', ['IV0', 'IV1', 'IV2']],
  ['0.10.2', ['IV0']],
  ['0.11.0', ['IV0', 'IV1', 'IV2']],
  ['1.0', ['IV0']],
  ['1.1', ['IV0']],
  ['2.0', ['IV0', 'IV1']],
  ['2.1', ['IV0', 'IV1', 'IV2']],
  ['2.2', ['IV0', 'IV1']],
  ['2.3', ['IV0', 'IV1']],
  ['2.4', ['IV0', 'IV1']],
  ['2.5', ['IV0']],
  ['2.6', ['IV0']],
  ['2.7', ['IV0', 'IV1', 'IV2']],
  ['2.8', ['IV0', 'IV1']],
  ['3.0', ['IV0', 'IV1']],
  ['3.1', ['IV0']],
  ['3.2', ['IV0']],
  ['3.3', ['IV0', 'IV1', 'IV2', 'IV3']],
  ['3.4', ['IV0']],
  ['3.5', ['IV0', 'IV1', 'IV2']],
  ['3.6', ['IV0', 'IV1', 'IV2']],
  ['3.7', ['IV0', 'IV1', 'IV2', 'IV3', 'IV4']],
  ['3.8', ['IV0']],
  ['3.9', ['IV0']],
  ['4.0', ['IV0', 'IV1']],
];

/** Kafka 3.9's LATEST_PRODUCTION: the releases after it have no bare name. */
const LATEST_PRODUCTION_RELEASE = '3.9';

/** Every MetadataVersion by its full name ("0.8.0", "0.10.0-IV1", "3.9-IV0"), oldest first. */
export const METADATA_VERSIONS: readonly string[] = RELEASES.flatMap(([release, subs]) => subs.map((sub) => (sub === '' ? release : `${release}-${sub}`)));

/** Kafka's IBP_VERSIONS: every full name, and each production release's bare name → its last version. */
const BY_NAME: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>(METADATA_VERSIONS.map((v) => [v, v]));
  for (const [release, subs] of RELEASES) {
    const last = subs[subs.length - 1]!;
    map.set(release, last === '' ? release : `${release}-${last}`);
    if (release === LATEST_PRODUCTION_RELEASE) break;
  }
  return map;
})();

/** Java's String.split: trailing empty strings are dropped. */
function javaSplit(value: string, separator: string): string[] {
  const parts = value.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Kafka's MetadataVersion.fromVersionString: the version a string names, or undefined. */
export function parseMetadataVersion(value: string): string | undefined {
  const segments = javaSplit(value, '.');
  const looked = value.startsWith('0.') ? 3 : 2;
  const key = looked >= segments.length ? value : segments.slice(0, looked).join('.');
  return BY_NAME.get(key);
}

/** Kafka's MetadataVersionValidator message for a value it refuses (the value as the config trims it), or undefined. */
export function metadataVersionProblem(value: string): string | undefined {
  const trimmed = value.trim();
  return parseMetadataVersion(trimmed) === undefined ? `Version ${trimmed} is not a valid version` : undefined;
}
