/**
 * A broker on a free port with the clients the admin tests drive it with:
 * kafkajs 2.2.4's admin and producer (no retries, no topic auto-creation) and
 * our codec client.
 */
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { startBroker, type RunningBroker, type StartBrokerOptions } from '../../src/index.js';
import { RawClient } from './raw-client.js';

export interface AdminClients {
  readonly broker: RunningBroker;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly raw: RawClient;
  /** Disconnects the clients, then closes the broker. */
  close(): Promise<void>;
}

export async function startWithAdminClients(clientId: string, opts: StartBrokerOptions): Promise<AdminClients> {
  const broker = await startBroker({ port: 0, ...opts });
  const kafka = new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const raw = await RawClient.connect(broker.port);
  return {
    broker,
    admin,
    producer,
    raw,
    async close() {
      raw.close();
      await producer.disconnect();
      await admin.disconnect();
      await broker.close();
    },
  };
}
