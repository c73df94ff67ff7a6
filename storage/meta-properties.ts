/**
 * meta.properties in the log directory, as Kafka (KRaft) writes it:
 *   version=1, cluster.id=<22-char base64url uuid>, node.id=<int>, directory.id=<uuid>.
 * Generated once, in an empty directory; later starts read it and refuse a node id that differs from the
 * configured one. A directory that holds anything else but no meta.properties is refused before anything is
 * written: a new file would give that data a new cluster id (Kafka 3.9 refuses every directory that
 * `kafka-storage format` did not prepare; Gregor formats an empty one itself, so a first start just works).
 */
import { randomBytes } from 'node:crypto';
import { StorageError } from './errors.js';
import type { StorageFs } from './fs.js';
import { writeFileAtomic } from './checkpoint-file.js';

export interface MetaProperties {
  version: number;
  clusterId: string;
  nodeId: number;
  directoryId: string;
}

/** A random UUID in Kafka's text form (base64url, 22 characters), never starting with '-' (as Kafka). */
export function randomKafkaUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && id !== 'AAAAAAAAAAAAAAAAAAAAAA' && id !== 'AAAAAAAAAAAAAAAAAAAAAQ') return id;
  }
}

export function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) props.set(m[1] as string, (m[2] as string).trim());
  }
  return props;
}

/** What an empty log directory may hold before its meta.properties is written. */
const FORMAT_LEFTOVERS = new Set(['.lock', 'meta.properties.tmp', 'lost+found']);

export async function loadOrCreateMetaProperties(fs: StorageFs, logDir: string, nodeId: number): Promise<MetaProperties> {
  const file = `${logDir}/meta.properties`;
  if (fs.stat(file) !== null) {
    const props = parseProperties(fs.readFile(file).toString('utf8'));
    const clusterId = props.get('cluster.id');
    const fileNodeId = Number(props.get('node.id') ?? props.get('broker.id'));
    if (!clusterId) throw new StorageError(`${file} has no cluster.id; fix or remove the file`);
    if (!Number.isInteger(fileNodeId)) throw new StorageError(`${file} has no valid node.id; fix or remove the file`);
    if (fileNodeId !== nodeId) {
      throw new StorageError(
        `${file} belongs to node.id=${fileNodeId}, but this broker is configured with node.id=${nodeId}; ` +
          `configure node.id=${fileNodeId} or use another log directory`,
      );
    }
    return { version: Number(props.get('version') ?? 1), clusterId, nodeId, directoryId: props.get('directory.id') ?? '' };
  }
  const found = fs.readdir(logDir).filter((name) => !FORMAT_LEFTOVERS.has(name)).sort();
  if (found.length > 0) {
    const shown = found.slice(0, 3).join(', ') + (found.length > 3 ? `, and ${found.length - 3} more` : '');
    throw new StorageError(
      `${file} is missing but ${logDir} is not empty (${shown}): refusing to start rather than give this data a new cluster id; ` +
        `restore meta.properties (node.id=${nodeId} and the data's cluster.id) or use an empty log directory`,
    );
  }
  const meta: MetaProperties = { version: 1, clusterId: randomKafkaUuid(), nodeId, directoryId: randomKafkaUuid() };
  const text =
    `#\n#Written by Gregor on ${new Date().toISOString()}\n` +
    `node.id=${meta.nodeId}\ndirectory.id=${meta.directoryId}\nversion=${meta.version}\ncluster.id=${meta.clusterId}\n`;
  await writeFileAtomic(fs, file, text);
  return meta;
}
