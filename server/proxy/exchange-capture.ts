import type { IncomingHttpHeaders } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { CAPTURE_BODY_LIMIT, type CaptureInput } from '../../observations/capture/capture.input.ts';
import type { CaptureEndReason, CaptureOutcome } from '../../observations/capture/capture.schema.ts';
import type { BodyTap } from './body-tap.ts';
import { headersToStore } from './forward-headers.ts';
import type { ProxyUpstream } from './upstreams.ts';

/** One call as it crossed the proxy, handed to the capture log when it ended (however it ended). */
export interface FinishedExchange {
  upstream: ProxyUpstream;
  method: string;
  /** From the API's root, query included (`/v1/messages?beta=true`). */
  path: string;
  requestHeaders: IncomingHttpHeaders;
  request: BodyTap;
  /** Null when the upstream never answered. */
  httpStatus: number | null;
  responseHeaders: IncomingHttpHeaders;
  response: BodyTap;
  streamed: boolean;
  outcome: CaptureOutcome;
  endReason: CaptureEndReason;
  error: string | null;
  startedAt: Date;
  firstByteMs: number | null;
  firstTokenMs: number | null;
  durationMs: number;
  keyHash: string | null;
  flag: string | null;
}

/**
 * The capture input for a finished exchange: bodies decoded (a gzip, deflate or brotli response is stored as its
 * text; the caller still got the compressed bytes), cut to CAPTURE_BODY_LIMIT with the cut noted in `error`, and
 * NUL characters (which PostgreSQL text cannot hold) replaced, also noted. Runs in the capture log, off the
 * request's path.
 */
export async function captureInputOf(exchange: FinishedExchange): Promise<CaptureInput> {
  const notes: string[] = exchange.error ? [exchange.error] : [];
  const requestBody = await storedBody('request', exchange.request, exchange.requestHeaders['content-encoding'], notes);
  const responseBody = await storedBody('response', exchange.response, exchange.responseHeaders['content-encoding'], notes);
  return {
    source: 'proxy',
    upstream: exchange.upstream.name,
    api: exchange.upstream.api,
    method: exchange.method,
    path: exchange.path.slice(0, 2000),
    streamed: exchange.streamed,
    outcome: exchange.outcome,
    endReason: exchange.endReason,
    httpStatus: exchange.httpStatus,
    error: notes.length > 0 ? notes.join('\n').slice(0, 10_000) : null,
    requestHeaders: headersToStore(exchange.requestHeaders),
    requestBody,
    responseHeaders: headersToStore(exchange.responseHeaders),
    responseBody,
    startedAt: exchange.startedAt,
    firstByteMs: exchange.firstByteMs,
    firstTokenMs: exchange.firstTokenMs,
    durationMs: exchange.durationMs,
    keyHash: exchange.keyHash,
    flag: exchange.flag,
  };
}

async function storedBody(which: 'request' | 'response', tap: BodyTap, encoding: string | undefined, notes: string[]): Promise<string> {
  let bytes = tap.bytes();
  if (tap.truncated) notes.push(`The ${which} body was ${formatBytes(tap.total)}; the first ${formatBytes(CAPTURE_BODY_LIMIT)} are stored (all of it was forwarded).`);
  const coding = (encoding ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity' && bytes.length > 0) {
    const decoded = await decode(bytes, coding);
    if (decoded === null) {
      notes.push(`The ${which} body is ${coding}-encoded, which cannot be decoded here: stored as base64.`);
      return bytes.toString('base64').slice(0, CAPTURE_BODY_LIMIT);
    }
    if (decoded.length > CAPTURE_BODY_LIMIT) notes.push(`The decoded ${which} body is longer than ${formatBytes(CAPTURE_BODY_LIMIT)}; the start is stored.`);
    bytes = decoded.subarray(0, CAPTURE_BODY_LIMIT);
  }
  let text = bytes.toString('utf8');
  if (text.length > CAPTURE_BODY_LIMIT) text = text.slice(0, CAPTURE_BODY_LIMIT);
  if (text.includes('\u0000')) {
    text = text.replaceAll('\u0000', '\uFFFD');
    notes.push(`NUL characters in the ${which} body were stored as U+FFFD.`);
  }
  return text;
}

/** Decompresses up to just past the storage limit (a small bomb cannot fill memory); a cut-off stream yields what it held. */
function decode(bytes: Buffer, coding: string): Promise<Buffer | null> {
  const make: (() => Transform) | undefined = {
    gzip: () => createGunzip(),
    'x-gzip': () => createGunzip(),
    deflate: () => createInflate(),
    br: () => createBrotliDecompress(),
  }[coding];
  if (!make) return Promise.resolve(null);
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let size = 0;
    const stream = make();
    const done = () => resolve(Buffer.concat(out));
    stream.on('data', (chunk: Buffer) => {
      out.push(chunk);
      size += chunk.length;
      if (size > CAPTURE_BODY_LIMIT) {
        stream.removeAllListeners('data');
        stream.destroy();
        done();
      }
    });
    stream.on('end', done);
    stream.on('error', () => (out.length > 0 ? done() : resolve(null)));
    stream.end(bytes);
  });
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} bytes`;
}
