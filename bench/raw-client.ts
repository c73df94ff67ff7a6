/**
 * A raw Kafka client for benchmarks: one request at a time over a socket, frames encoded and decoded with the
 * project's codec (no client library in the measurement).
 */
import net from 'node:net';
import { decodeResponseFrame, encodeRequestFrame, type MessageDef, type MessageInput, type MessageValue } from '../protocol/index.js';

/** One request at a time over a socket (raw frames). */
export class RawBenchClient {
  private received: Buffer[] = [];
  private bytes = 0;
  private waiting: ((frame: Buffer) => void) | undefined;
  private correlationId = 1;

  private constructor(
    private readonly socket: net.Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (c: Buffer) => {
      this.received.push(c);
      this.bytes += c.length;
      this.deliver();
    });
  }

  /** `bootstrap` is host:port. */
  static connect(bootstrap: string, clientId: string): Promise<RawBenchClient> {
    const [host, port] = bootstrap.split(':');
    return new Promise((resolve, reject) => {
      const s = net.connect({ port: Number(port), host }, () => resolve(new RawBenchClient(s, clientId)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  request<Req extends MessageDef, Res extends MessageDef>(req: Req, res: Res, version: number, body: MessageInput<Req>): Promise<MessageValue<Res>> {
    return new Promise((resolve) => {
      this.waiting = (frame) => resolve(decodeResponseFrame(res, version, frame).body);
      for (const c of encodeRequestFrame(req, version, this.correlationId++, this.clientId, body)) this.socket.write(c);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    if (this.bytes < 4) return;
    const head = this.received.length === 1 ? this.received[0]! : Buffer.concat(this.received);
    this.received = [head];
    const size = head.readInt32BE(0);
    if (head.length < 4 + size) return;
    const frame = head.subarray(4, 4 + size);
    this.received = head.length > 4 + size ? [head.subarray(4 + size)] : [];
    this.bytes = head.length - 4 - size;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(frame);
  }
}
