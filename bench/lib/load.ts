import net from 'node:net';

/** `latenciesMs[i]` is the latency of request i (the order requests were issued, not the order they finished). */
export interface LoadResult { count: number; errors: number; seconds: number; rate: number; latenciesMs: number[]; statuses: Record<number, number> }

export interface LoadRequest { method: string; path: string; body?: string; headers?: Record<string, string> }

/**
 * Sends `total` requests over `concurrency` keep-alive connections, each connection sending its next request when
 * the previous answer has arrived (closed loop, like real clients). Latency is measured per request, from writing
 * the request to reading the last byte of the answer.
 *
 * The load runs on the same machine as the server (2 cores here), so it speaks HTTP/1.1 over plain sockets rather
 * than through node:http: node's client spent about 140 µs of CPU per request (a request object, header checks,
 * an answer stream, its events), this one about 40, and every microsecond it spends is one the server and
 * PostgreSQL cannot. It reads what the servers measured here send: bodies framed by Content-Length or chunked,
 * and `Connection: close` (it reconnects). Statuses are counted; bodies are not kept.
 */
export async function runLoad(opts: {
  url: string;
  concurrency: number;
  total: number;
  request: (i: number) => LoadRequest;
  expectStatus: number;
}): Promise<LoadResult> {
  const target = new URL(opts.url);
  const host = target.hostname;
  const port = Number(target.port || 80);
  const hostHeader = target.host;
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  let errors = 0;
  const connections: Connection[] = [];
  const one = async (connection: Connection, i: number) => {
    const started = process.hrtime.bigint();
    try {
      const status = await connection.send(encodeRequest(opts.request(i), hostHeader));
      latencies[i] = Number(process.hrtime.bigint() - started) / 1e6;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== opts.expectStatus) errors++;
    } catch {
      latencies[i] = Number(process.hrtime.bigint() - started) / 1e6;
      errors++;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      const connection = new Connection(host, port);
      connections.push(connection);
      while (next < opts.total) await one(connection, next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of connections) c.close();
  return { count: opts.total, errors, seconds, rate: opts.total / seconds, latenciesMs: latencies, statuses };
}

/** A request as the bytes sent: the head as one string, the body (if any) after it. */
export function encodeRequest(r: LoadRequest, host: string): { head: string; body?: string } {
  let head = `${r.method} ${r.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  if (r.body !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(r.body)}\r\n`;
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  return { head: head + '\r\n', body: r.body };
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection, one request at a time. Opens its socket when first used and again after
 * the server closed it (`Connection: close`, or an idle timeout between requests).
 */
export class Connection {
  private socket: net.Socket | null = null;
  private pending: { resolve: (status: number) => void; reject: (e: Error) => void } | null = null;
  private reader = new ResponseReader();

  private readonly host: string;
  private readonly port: number;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** Sends a request and resolves with the answer's status once its whole body has been read. */
  send(request: { head: string; body?: string }): Promise<number> {
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    const socket = this.socket ?? this.open();
    return new Promise<number>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.reader = new ResponseReader();
      socket.cork();
      socket.write(request.head, 'latin1');
      if (request.body !== undefined) socket.write(request.body, 'utf8');
      socket.uncork();
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const pending = this.pending;
      if (this.socket !== socket || !pending) return; // bytes nobody asked for: ignored, the next request starts a new reader
      let result: { status: number; close: boolean } | null;
      try {
        result = this.reader.push(chunk);
      } catch (e) {
        this.fail(socket, e as Error);
        return;
      }
      if (!result) return;
      this.pending = null;
      if (result.close) this.drop(socket);
      pending.resolve(result.status);
    });
    const ended = (e?: Error) => {
      if (this.socket !== socket) return; // a socket this connection already let go of (its answer was complete)
      this.fail(socket, e ?? new Error('the server closed the connection before answering'));
    };
    socket.on('error', ended);
    socket.on('close', () => ended());
    return socket;
  }

  private fail(socket: net.Socket, e: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.drop(socket);
    pending?.reject(e);
  }

  private drop(socket: net.Socket): void {
    if (this.socket === socket) this.socket = null;
    socket.destroy();
  }
}

/**
 * Reads one HTTP/1.1 answer from the chunks it arrives in: the head (status, Content-Length, Transfer-Encoding,
 * Connection), then skips the body by counting its bytes. Returns null until the answer is complete.
 */
export class ResponseReader {
  private head: Buffer | null = Buffer.alloc(0);
  private status = 0;
  private close = false;
  /** Body bytes still to skip (Content-Length, or the rest of the current chunk and its CRLF). */
  private remaining = 0;
  private chunked = false;
  /** Chunked framing: the size line (or trailer line) read so far, while between chunks. */
  private line = '';
  private state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'trailer' | 'done' = 'head';

  push(chunk: Buffer): { status: number; close: boolean } | null {
    let at = 0;
    if (this.state === 'head') {
      const searchFrom = Math.max(0, this.head!.length - 3);
      const joined = this.head!.length ? Buffer.concat([this.head!, chunk]) : chunk;
      const end = joined.indexOf(CRLF_CRLF, searchFrom);
      if (end < 0) {
        if (joined.length > 64 * 1024) throw new Error('answer head larger than 64 KB');
        this.head = joined;
        return null;
      }
      this.readHead(joined.toString('latin1', 0, end));
      this.head = null;
      chunk = joined;
      at = end + 4;
    }
    if (this.state === 'done') return this.done();
    while (at < chunk.length) {
      if (this.state === 'length' || this.state === 'chunk-data') {
        const take = Math.min(this.remaining, chunk.length - at);
        this.remaining -= take;
        at += take;
        if (this.remaining > 0) return null;
        if (this.state === 'length') return this.done();
        this.state = 'chunk-size';
        continue;
      }
      // chunk-size and trailer: line by line
      const lf = chunk.indexOf(10, at);
      const end = lf < 0 ? chunk.length : lf + 1;
      this.line += chunk.toString('latin1', at, end);
      at = end;
      if (lf < 0) continue;
      const line = this.line.trim();
      this.line = '';
      if (this.state === 'trailer') {
        if (line === '') return this.done();
        continue;
      }
      if (line === '') continue; // the CRLF that closes a chunk's data
      const size = parseInt(line.split(';')[0]!, 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
      if (size === 0) this.state = 'trailer';
      else {
        this.state = 'chunk-data';
        this.remaining = size;
      }
    }
    return null;
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!statusLine) throw new Error(`not an HTTP/1.x answer: ${JSON.stringify(lines[0])}`);
    this.status = Number(statusLine[1]);
    const http10 = lines[0]!.startsWith('HTTP/1.0');
    let length: number | null = null;
    let keepAlive = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') this.chunked = value.split(',').map((s) => s.trim()).includes('chunked');
      else if (name === 'connection') {
        if (value.includes('close')) this.close = true;
        if (value.includes('keep-alive')) keepAlive = true;
      }
    }
    if (http10 && !keepAlive) this.close = true;
    const bodiless = this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200);
    if (this.chunked && !bodiless) this.state = 'chunk-size';
    else if (bodiless || length === 0) this.state = 'done';
    else if (length === null || !Number.isFinite(length)) throw new Error('an answer with neither Content-Length nor chunked framing');
    else {
      this.state = 'length';
      this.remaining = length;
    }
  }

  private done(): { status: number; close: boolean } {
    this.state = 'done';
    return { status: this.status, close: this.close };
  }
}
