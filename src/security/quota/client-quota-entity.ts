/**
 * What a client quota is set on, and which quota keys it takes, as Kafka's
 * ClientQuotaEntity and QuotaConfig name them.
 *
 * An entity maps entity types to names: `user` (a principal's name),
 * `client-id`, or `ip`; a null name is the type's default entity
 * (`<default>` in kafka-configs). Kafka accepts user, client-id and the pair
 * (user, client-id) with the user and client keys, and ip alone with
 * connection_creation_rate. The entity keeps the order its types were given
 * in; its identity (entityKey) does not depend on it.
 */

export const USER = 'user';
export const CLIENT_ID = 'client-id';
export const IP = 'ip';

/** Entity type → name (null: the default entity), in the order given. */
export type QuotaEntity = ReadonlyMap<string, string | null>;

export const PRODUCER_BYTE_RATE = 'producer_byte_rate';
export const CONSUMER_BYTE_RATE = 'consumer_byte_rate';
export const REQUEST_PERCENTAGE = 'request_percentage';
export const CONTROLLER_MUTATION_RATE = 'controller_mutation_rate';
export const CONNECTION_CREATION_RATE = 'connection_creation_rate';

/** The type of a quota key, as QuotaConfig defines it (LONG and INT values must be whole). */
export type QuotaKeyType = 'long' | 'int' | 'double';

/** QuotaConfig.userAndClientQuotaConfigs(): the keys of user, client-id and (user, client-id) entities. */
export const USER_AND_CLIENT_QUOTA_KEYS: ReadonlyMap<string, QuotaKeyType> = new Map([
  [PRODUCER_BYTE_RATE, 'long'],
  [CONSUMER_BYTE_RATE, 'long'],
  [REQUEST_PERCENTAGE, 'double'],
  [CONTROLLER_MUTATION_RATE, 'double'],
]);

/** QuotaConfig.ipConfigs(): the key of ip entities. */
export const IP_QUOTA_KEYS: ReadonlyMap<string, QuotaKeyType> = new Map([[CONNECTION_CREATION_RATE, 'int']]);

/** The identity of an entity: its types and names, whatever their order. */
export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify([...entity].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * An entity as Kafka prints it in messages ("ClientQuotaEntity(entries={user=alice, client-id=app})"): the
 * entries in the order of the HashMap Kafka builds them into (AlterClientQuotasRequest.entries()).
 */
export function entityToString(entity: QuotaEntity): string {
  const entries = javaHashMapOrder([...entity.keys()]).map((type) => `${type}=${entity.get(type) ?? 'null'}`);
  return `ClientQuotaEntity(entries={${entries.join(', ')}})`;
}

/**
 * The iteration order of a java.util.HashMap created with the capacity of its `keys.length` String keys and
 * filled in this order: by bucket (String.hashCode spread and masked by the table size), then insertion.
 */
function javaHashMapOrder(keys: readonly string[]): string[] {
  // new HashMap<>(n): the table is sized at the first put, then doubles whenever size exceeds 0.75 × capacity
  let capacity = Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, keys.length))));
  for (let size = 1; size <= keys.length; size++) if (size > Math.floor(capacity * 0.75)) capacity *= 2;
  const bucket = (key: string): number => {
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0;
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return keys.map((key, i) => ({ key, i, b: bucket(key) })).sort((x, y) => x.b - y.b || x.i - y.i).map((e) => e.key);
}
