/**
 * A config's definition and the check of one value against it, as Kafka's
 * ConfigDef parses and validates: the type first (parseType), then the
 * validator (a range, a set of choices — for a list, each item —, or one of
 * Kafka's own validators, KafkaValidator).
 *
 * A refused value has two wordings: Gregor's (`detail`, for the command line:
 * "'many' is not an integer") and Kafka's (`kafka`, the ConfigException text
 * that AlterConfigs, IncrementalAlterConfigs and CreateTopics answer: "Invalid
 * value many for configuration num.partitions: Not a number of type INT").
 */
import type { KafkaConfigType, KafkaValidator, UpdateMode } from './kafka-broker-configs.js';
import { metadataVersionProblem } from './kafka-version.js';

export type ConfigType = KafkaConfigType;

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  /** Default as Kafka prints it (null for none). */
  readonly default: string | null;
  /** Gregor's documentation; undefined for Kafka's configs that Gregor does not implement (kafka-broker-config-docs.ts has theirs). */
  readonly doc?: string;
  /** Allowed values for enumerations (for a list: of each item). */
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Alternative names accepted on input (e.g. broker.id for node.id). */
  readonly aliases?: readonly string[];
  /** Extra validation beyond type, range and choices, on the trimmed value: the problem (Kafka's words), or undefined. */
  readonly check?: (value: string) => string | ConfigProblem | undefined;
  /** Kafka's dynamic update mode (read-only when absent); Gregor's own gregor.* configs have Gregor's. */
  readonly mode?: Exclude<UpdateMode, 'read-only'>;
  /** Kafka's importance (absent for gregor.* configs). */
  readonly importance?: 'high' | 'medium' | 'low';
  /** True for Kafka's configs that Gregor accepts, validates, stores and describes but does not act on. */
  readonly noEffect?: boolean;
  /**
   * True for a config accepted and read but never described (DescribeConfigs): a gregor.* switch of work in
   * progress (not documented either), or a config of Kafka's authorizer, which Kafka's brokers do not describe.
   */
  readonly hidden?: boolean;
}

/** Why a value is refused. */
export interface ConfigProblem {
  /** Gregor's words, after "<name>: " on the command line. */
  readonly detail: string;
  /** Kafka's ConfigException detail, after "Invalid value <value> for configuration <name>: ". */
  readonly kafka: string;
  /** The value Kafka's message names when not the whole value (a list item, a list as Java prints it). */
  readonly value?: string;
  /** Kafka's whole message, for the validators that do not use the "Invalid value" form. */
  readonly message?: string;
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const INT_RANGE: Readonly<Record<'int' | 'short' | 'long', readonly [bigint, bigint]>> = {
  short: [-32768n, 32767n],
  int: [-2147483648n, 2147483647n],
  long: [-9223372036854775808n, 9223372036854775807n],
};

/** Double.parseDouble's forms: decimal with an optional exponent and f/d suffix, NaN, Infinity. */
const JAVA_DOUBLE = /^[-+]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fFdD]?)$/;
/** A Java class name (Kafka loads it; Gregor can only check its form). */
const JAVA_CLASS = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
/** Kafka's Utils HOST_PORT_PATTERN. */
const HOST_PORT = /^(?:[0-9a-zA-Z\-%._]*:\/\/)?\[?([0-9a-zA-Z\-%._:]*)]?:([0-9]+)$/;

function same(text: string, extra: Partial<ConfigProblem> = {}): ConfigProblem {
  return { detail: text, kafka: text, ...extra };
}

/** Kafka's validators beyond ranges and choices, on the trimmed value (lists: the whole value). */
export const KAFKA_VALIDATORS: Readonly<Record<KafkaValidator, (value: string) => ConfigProblem | undefined>> = {
  'metadata-version': (value) => {
    const problem = metadataVersionProblem(value);
    return problem === undefined ? undefined : same(problem);
  },
  'gzip-level': (value) => {
    const n = Number(value);
    return n === -1 || (n >= 1 && n <= 9) ? undefined : same('Value must be between 1 and 9 or equal to -1');
  },
  'thread-pool-size': (value) => (Number(value) < -1 || Number(value) === 0 ? same('Value can be -1 or greater than 0') : undefined),
  'non-empty-string': (value) => (value === '' ? same('String must be non-empty') : undefined),
  'quorum-voters': (value) => {
    const name = 'controller.quorum.voters';
    for (const entry of splitList(value)) {
      const form = 'Each entry should be in the form `{id}@{host}:{port}`.';
      const parts = entry.split('@');
      if (parts.length !== 2) return wholeMessage(`Invalid configuration value for ${name}. ${form}`);
      if (!/^[-+]?\d+$/.test(parts[0]!) || Math.abs(Number(parts[0])) > 2147483647) return wholeMessage(`Failed to parse voter ID as an integer from ${parts[0]}`);
      if (!HOST_PORT.test(parts[1]!)) return wholeMessage(`Failed to parse host name from entry ${entry} for the configuration ${name}. ${form}`);
    }
    return undefined;
  },
  'quorum-bootstrap-servers': (value) => {
    for (const entry of splitList(value)) {
      if (!HOST_PORT.test(entry)) {
        return wholeMessage(`Failed to parse host name from ${entry} for the configuration controller.quorum.bootstrap.servers. Each entry should be in the form "{host}:{port}"`);
      }
    }
    return undefined;
  },
};

function wholeMessage(message: string): ConfigProblem {
  return { detail: message, kafka: message, message };
}

/** Checks one value against its definition as Kafka parses and validates it; undefined when it is valid. */
export function configValueProblem(def: ConfigDef, value: string): ConfigProblem | undefined {
  const text = value.trim();
  switch (def.type) {
    case 'boolean':
      if (!/^(true|false)$/i.test(text)) return { detail: `'${value}' is not a boolean (true or false)`, kafka: 'Expected value to be either true or false' };
      break;
    case 'short':
    case 'int':
    case 'long': {
      const notNumber = `Not a number of type ${def.type.toUpperCase()}`;
      if (!/^[-+]?\d+$/.test(text)) return { detail: `'${value}' is not an integer`, kafka: notNumber };
      const big = BigInt(text);
      const [lo, hi] = INT_RANGE[def.type];
      if (big < lo || big > hi) return { detail: `'${value}' is out of the ${def.type} range`, kafka: notNumber };
      if (def.min !== undefined && big < BigInt(def.min)) return { detail: `${text} is below the minimum ${def.min}`, kafka: `Value must be at least ${def.min}` };
      if (def.max !== undefined && big > BigInt(def.max)) return { detail: `${text} is above the maximum ${def.max}`, kafka: `Value must be no more than ${def.max}` };
      break;
    }
    case 'double': {
      if (!JAVA_DOUBLE.test(text)) return { detail: `'${value}' is not a number`, kafka: 'Not a number of type DOUBLE' };
      const n = Number(text.replace(/[fFdD]$/, ''));
      if (def.min !== undefined && n < def.min) return { detail: `${value} is below the minimum ${def.min}`, kafka: `Value must be at least ${def.min}` };
      if (def.max !== undefined && n > def.max) return { detail: `${value} is above the maximum ${def.max}`, kafka: `Value must be no more than ${def.max}` };
      break;
    }
    case 'class':
      if (!JAVA_CLASS.test(text)) return { detail: `'${value}' is not a Java class name`, kafka: `Class ${value} could not be found.` };
      break;
    case 'list':
      if (def.choices) {
        for (const item of splitList(value)) {
          if (!def.choices.includes(item)) return { detail: `'${item}' is not one of ${def.choices.join(', ')}`, kafka: `String must be one of: ${def.choices.join(', ')}`, value: item };
        }
      }
      break;
    default:
      if (def.choices && !def.choices.includes(text)) return { detail: `'${value}' is not one of ${def.choices.join(', ')}`, kafka: `String must be one of: ${def.choices.join(', ')}` };
  }
  const extra = def.check?.(text);
  return typeof extra === 'string' ? same(extra) : extra;
}

/** Gregor's wording of a refused value ("num.partitions: 'many' is not an integer"), or undefined when it is valid. */
export function validateConfigValue(def: ConfigDef, value: string): string | undefined {
  const problem = configValueProblem(def, value);
  return problem === undefined ? undefined : `${def.name}: ${problem.detail}`;
}

/** Kafka's ConfigException message for a refused value: "Invalid value v for configuration k: ...". */
export function invalidValueMessage(name: string, value: string, problem: ConfigProblem): string {
  return problem.message ?? `Invalid value ${problem.value ?? value} for configuration ${name}: ${problem.kafka}`;
}
