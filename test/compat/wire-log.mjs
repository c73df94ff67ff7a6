// What each client really sends: a TCP proxy in front of a broker that forwards
// bytes unchanged both ways and reads the header of every request (API key,
// version, client id). The broker advertises the proxy's port, so clients stay
// on it after their bootstrap. Counts are kept per client id; a connection the
// broker closes with a request unanswered is noted with that request (Gregor
// closes on an API or version it does not serve, as Kafka does).
import net from 'node:net';

/** Kafka's API names by key, for the report (client-facing APIs; broker-to-broker ones are never sent here). */
export const API_NAMES = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  3: 'Metadata',
  4: 'LeaderAndIsr',
  5: 'StopReplica',
  6: 'UpdateMetadata',
  7: 'ControlledShutdown',
  8: 'OffsetCommit',
  9: 'OffsetFetch',
  10: 'FindCoordinator',
  11: 'JoinGroup',
  12: 'Heartbeat',
  13: 'LeaveGroup',
  14: 'SyncGroup',
  15: 'DescribeGroups',
  16: 'ListGroups',
  17: 'SaslHandshake',
  18: 'ApiVersions',
  19: 'CreateTopics',
  20: 'DeleteTopics',
  21: 'DeleteRecords',
  22: 'InitProducerId',
  23: 'OffsetForLeaderEpoch',
  24: 'AddPartitionsToTxn',
  25: 'AddOffsetsToTxn',
  26: 'EndTxn',
  27: 'WriteTxnMarkers',
  28: 'TxnOffsetCommit',
  29: 'DescribeAcls',
  30: 'CreateAcls',
  31: 'DeleteAcls',
  32: 'DescribeConfigs',
  33: 'AlterConfigs',
  34: 'AlterReplicaLogDirs',
  35: 'DescribeLogDirs',
  36: 'SaslAuthenticate',
  37: 'CreatePartitions',
  38: 'CreateDelegationToken',
  39: 'RenewDelegationToken',
  40: 'ExpireDelegationToken',
  41: 'DescribeDelegationToken',
  42: 'DeleteGroups',
  43: 'ElectLeaders',
  44: 'IncrementalAlterConfigs',
  45: 'AlterPartitionReassignments',
  46: 'ListPartitionReassignments',
  47: 'OffsetDelete',
  48: 'DescribeClientQuotas',
  49: 'AlterClientQuotas',
  50: 'DescribeUserScramCredentials',
  51: 'AlterUserScramCredentials',
  55: 'DescribeQuorum',
  57: 'UpdateFeatures',
  60: 'DescribeCluster',
  61: 'DescribeProducers',
  65: 'DescribeTransactions',
  66: 'ListTransactions',
  68: 'ConsumerGroupHeartbeat',
  69: 'ConsumerGroupDescribe',
  71: 'GetTelemetrySubscriptions',
  72: 'PushTelemetry',
  74: 'ListConfigResources',
  75: 'DescribeTopicPartitions',
  76: 'ShareGroupHeartbeat',
  77: 'ShareGroupDescribe',
  78: 'ShareFetch',
  79: 'ShareAcknowledge',
  88: 'StreamsGroupHeartbeat',
  89: 'StreamsGroupDescribe',
  90: 'DescribeShareGroupOffsets',
  91: 'AlterShareGroupOffsets',
  92: 'DeleteShareGroupOffsets',
};
export const apiName = (key) => API_NAMES[key] ?? `API ${key}`;

/** Listens on a free loopback port; forwards each connection to 127.0.0.1:`target()`. */
export function startWireLog(target) {
  const counts = new Map(); // clientId -> Map("key:version" -> n)
  const closedOn = []; // { clientId, apiKey, apiVersion }
  const sockets = new Set();
  const server = net.createServer((client) => {
    const broker = net.connect({ host: '127.0.0.1', port: target() });
    sockets.add(client).add(broker);
    let pending = Buffer.alloc(0);
    const unanswered = new Map(); // correlation id -> request
    let answered = Buffer.alloc(0);
    client.on('data', (chunk) => {
      broker.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        if (size >= 10) {
          const apiKey = pending.readInt16BE(4);
          const apiVersion = pending.readInt16BE(6);
          const correlationId = pending.readInt32BE(8);
          const idLen = pending.readInt16BE(12); // request header v1+: client_id right after the correlation id
          const clientId = idLen >= 0 && 14 + idLen <= 4 + size ? pending.toString('utf8', 14, 14 + idLen) : '(none)';
          let byApi = counts.get(clientId);
          if (byApi === undefined) counts.set(clientId, (byApi = new Map()));
          const k = `${apiKey}:${apiVersion}`;
          byApi.set(k, (byApi.get(k) ?? 0) + 1);
          unanswered.set(correlationId, { clientId, apiKey, apiVersion });
        }
        pending = pending.subarray(4 + size);
      }
    });
    broker.on('data', (chunk) => {
      client.write(chunk);
      answered = answered.length === 0 ? chunk : Buffer.concat([answered, chunk]);
      while (answered.length >= 8 && answered.length >= 4 + answered.readInt32BE(0)) {
        unanswered.delete(answered.readInt32BE(4));
        answered = answered.subarray(4 + answered.readInt32BE(0));
      }
    });
    // Produce with acks=0 has no response: never counted as closed on. (Read closedOn() before
    // stopping the broker, whose shutdown closes connections with long polls waiting.)
    broker.on('close', () => {
      for (const r of unanswered.values()) if (r.apiKey !== 0) closedOn.push(r);
      unanswered.clear();
      client.destroy();
      sockets.delete(broker);
    });
    client.on('close', () => {
      unanswered.clear();
      broker.destroy();
      sockets.delete(client);
    });
    client.on('error', () => broker.destroy());
    broker.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        /** clientId -> [{ apiKey, versions: [v...], requests }] sorted by key. */
        byClient() {
          const out = new Map();
          for (const [clientId, byApi] of counts) {
            const apis = new Map();
            for (const [k, n] of byApi) {
              const [key, version] = k.split(':').map(Number);
              const a = apis.get(key) ?? { apiKey: key, versions: [], requests: 0 };
              a.versions.push(version);
              a.requests += n;
              apis.set(key, a);
            }
            out.set(clientId, [...apis.values()].sort((x, y) => x.apiKey - y.apiKey).map((a) => ({ ...a, versions: a.versions.sort((x, y) => x - y) })));
          }
          return out;
        },
        closedOn: () => [...closedOn],
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
