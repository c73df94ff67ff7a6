/**
 * The metrics HTTP server (gregor.metrics.host:gregor.metrics.port, default 9464):
 *   GET /metrics  Prometheus text exposition (503 until the metrics are loaded)
 *   GET /healthz  200 while the process runs and the broker is not closed (liveness)
 *   GET /ready    200 once the logs are recovered and the broker listens, 503 before and while shutting down
 * HEAD works as GET without a body; other methods get 405, other paths 404. It starts before the logs
 * are recovered, so liveness can be probed during a long recovery.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsEndpoints {
  live(): boolean;
  /** Undefined when ready, else why not. */
  notReadyReason(): string | undefined;
  /** The exposition, or undefined while the metrics are not loaded yet. */
  scrape(): Promise<{ contentType: string; body: string }> | undefined;
  onError(err: unknown): void;
}

export class MetricsServer {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static listen(host: string, port: number, endpoints: MetricsEndpoints): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      void respond(req, res, endpoints).catch((err: unknown) => {
        endpoints.onError(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
    });
    server.keepAliveTimeout = 65_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: host === '' ? undefined : host, port }, () => {
        server.off('error', reject);
        server.on('error', (err) => endpoints.onError(err));
        resolve(new MetricsServer(server, (server.address() as AddressInfo).port));
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function respond(req: http.IncomingMessage, res: http.ServerResponse, endpoints: MetricsEndpoints): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  const head = req.method === 'HEAD';
  const send = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };
  if (path !== '/metrics' && path !== '/healthz' && path !== '/ready') return send(404, 'not found: try /metrics, /healthz or /ready\n');
  if (req.method !== 'GET' && !head) {
    res.setHeader('allow', 'GET, HEAD');
    return send(405, 'method not allowed\n');
  }
  if (path === '/healthz') return endpoints.live() ? send(200, 'ok\n') : send(503, 'closed\n');
  if (path === '/ready') {
    const reason = endpoints.notReadyReason();
    return reason === undefined ? send(200, 'ready\n') : send(503, `not ready: ${reason}\n`);
  }
  const scrape = endpoints.scrape();
  if (!scrape) return send(503, 'metrics are loading\n');
  const { contentType, body } = await scrape;
  send(200, body, contentType);
}
