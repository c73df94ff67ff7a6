/**
 * Loopback baseline server (run as a child process of bench/run.ts, pinned like the broker):
 *   node dist/bench/sink-server.js sink     reads and discards what a client writes (the produce direction)
 *   node dist/bench/sink-server.js source   writes 1 MiB buffers as fast as the socket takes them (the fetch
 *                                           direction), honouring back-pressure as the broker does
 * Prints {"event":"listening","port":N} and serves until stdin closes. This is the fastest any Node server
 * moves bytes over a loopback socket on this machine: the ceiling for the broker's network path.
 */
import net from 'node:net';

const mode = process.argv[2];
if (mode !== 'sink' && mode !== 'source') {
  process.stderr.write('usage: sink-server.js sink|source\n');
  process.exit(2);
}

const block = Buffer.alloc(1024 * 1024, 0x78);

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  if (mode === 'sink') {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    socket.on('close', () => void bytes);
    return;
  }
  const pump = (): void => {
    while (!socket.destroyed && socket.write(block));
  };
  socket.on('drain', pump);
  pump();
});

server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as net.AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
