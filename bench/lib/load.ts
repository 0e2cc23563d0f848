import http from 'node:http';

/** `latenciesMs[i]` is the latency of request i (the order requests were issued, not the order they finished). */
export interface LoadResult { count: number; errors: number; seconds: number; rate: number; latenciesMs: number[]; statuses: Record<number, number> }

/**
 * Sends `total` requests with `concurrency` keep-alive connections, each client sending its next request when
 * the previous answer arrives (closed loop, like real clients). Latency is measured per request.
 */
export async function runLoad(opts: {
  url: string;
  concurrency: number;
  total: number;
  request: (i: number) => { method: string; path: string; body?: string; headers?: Record<string, string> };
  expectStatus: number;
}): Promise<LoadResult> {
  const target = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  let errors = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const r = opts.request(i);
      const started = process.hrtime.bigint();
      const req = http.request(
        { host: target.hostname, port: target.port, method: r.method, path: r.path, agent, headers: { ...(r.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) } : {}), ...r.headers } },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies[i] = Number(process.hrtime.bigint() - started) / 1e6;
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            if (res.statusCode !== opts.expectStatus) errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      if (r.body) req.write(r.body);
      req.end();
    });
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.total) await one(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return { count: opts.total, errors, seconds, rate: opts.total / seconds, latenciesMs: latencies, statuses };
}
