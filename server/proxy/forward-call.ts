import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { CAPTURE_BODY_LIMIT } from '../../observations/capture/capture.input.ts';
import type { CaptureEndReason, CaptureOutcome } from '../../observations/capture/capture.schema.ts';
import { FirstTokenWatch } from '../../observations/capture/sse/first-token.ts';
import { BodyTap } from './body-tap.ts';
import type { FinishedExchange } from './exchange-capture.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.ts';
import { sendProxyError } from './proxy-errors.ts';
import type { ProxyUpstream } from './upstreams.ts';

/** Keep-alive connection pools to the upstreams, one per scheme, shared by every call (reusing sockets is most of the speed). */
export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
}

export function createUpstreamAgents(): UpstreamAgents {
  return {
    http: new http.Agent({ keepAlive: true, scheduling: 'lifo' }),
    https: new https.Agent({ keepAlive: true, scheduling: 'lifo' }),
  };
}

export interface ForwardCall {
  upstream: ProxyUpstream;
  /** From the API's root, query included: `/v1/chat/completions`. */
  path: string;
  req: IncomingMessage;
  res: ServerResponse;
  agents: UpstreamAgents;
  /** Longest silence from the upstream (before it answers, or between chunks of its answer). */
  timeoutMs: number;
  keyHash: string | null;
  flag: string | null;
  /** Called exactly once, when the call has ended in any way: the capture to record. */
  onFinished(exchange: FinishedExchange): void;
}

/**
 * Forwards one call to its upstream and its answer back, as they stream: each response chunk is written to the
 * caller the moment it arrives (and a reference kept for the capture), never buffered first. The status, the
 * headers (hop-by-hop ones aside) and every body byte pass unchanged both ways, errors included. Timings are
 * stamped on the way: first response byte, and for event streams the chunk that brought the first token.
 *
 * Every ending is recorded: `done`; an upstream error status (`upstream_error`); the caller going away
 * (`client_abort`, the upstream request is aborted too); the upstream silent past `timeoutMs` (`timeout`: a 504
 * if nothing was sent yet, else the caller's connection is cut); the upstream unreachable (502) or breaking off
 * mid-answer (`network_error`, the caller's connection cut so it cannot mistake the answer for complete).
 */
export function forwardCall(call: ForwardCall): void {
  const { upstream, req, res } = call;
  const started = performance.now();
  const startedAt = new Date();
  const elapsed = () => performance.now() - started;
  const target = upstreamTarget(upstream.baseUrl);
  const secure = target.secure;
  const requestTap = new BodyTap(CAPTURE_BODY_LIMIT);
  const responseTap = new BodyTap(CAPTURE_BODY_LIMIT);
  let response: IncomingMessage | null = null;
  let streamed = false;
  let firstByteMs: number | null = null;
  let firstTokenMs: number | null = null;
  let waitingForClient = false;
  let done = false;

  const finish = (outcome: CaptureOutcome, endReason: CaptureEndReason, error: string | null) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    call.onFinished({
      upstream,
      method: req.method ?? 'GET',
      path: call.path,
      requestHeaders: req.headers,
      request: requestTap,
      httpStatus: response?.statusCode ?? null,
      responseHeaders: response?.headers ?? {},
      response: responseTap,
      streamed,
      outcome,
      endReason,
      error,
      startedAt,
      firstByteMs,
      firstTokenMs,
      durationMs: elapsed(),
      keyHash: call.keyHash,
      flag: call.flag,
    });
  };

  const onSilence = () => {
    if (done) return;
    if (waitingForClient) {
      // A slow reader is not a stalled upstream: wait for the caller to catch up.
      timer.refresh();
      return;
    }
    const seconds = `${(call.timeoutMs / 1000).toFixed(call.timeoutMs < 1000 ? 1 : 0)} s`;
    upstreamRequest.destroy();
    if (!response) {
      const message = `The upstream "${upstream.name}" sent nothing for ${seconds} (MENAGERIE_PROXY_TIMEOUT_MS).`;
      sendProxyError(res, 'upstream_timeout', message);
      finish('error', 'timeout', message);
    } else {
      res.destroy();
      finish('partial', 'timeout', `The upstream "${upstream.name}" stalled for ${seconds} in the middle of its answer; the caller's connection was cut.`);
    }
  };
  const timer = setTimeout(onSilence, call.timeoutMs);

  const upstreamRequest = (secure ? https : http).request({
    protocol: secure ? 'https:' : 'http:',
    hostname: target.hostname,
    port: target.port,
    method: req.method,
    path: target.basePath + call.path,
    headers: upstreamRequestHeaders(req.headers),
    agent: secure ? call.agents.https : call.agents.http,
  });

  upstreamRequest.on('response', (upstreamResponse) => {
    response = upstreamResponse;
    firstByteMs = elapsed();
    timer.refresh();
    const status = upstreamResponse.statusCode ?? 502;
    streamed = /^text\/event-stream/i.test(upstreamResponse.headers['content-type'] ?? '');
    res.writeHead(status, upstreamResponse.statusMessage, clientResponseHeaders(upstreamResponse.rawHeaders, upstreamResponse.headers.connection));
    if (streamed) res.flushHeaders();
    const watch = streamed && !upstreamResponse.headers['content-encoding'] ? new FirstTokenWatch() : null;
    upstreamResponse.on('data', (chunk: Buffer) => {
      responseTap.push(chunk);
      if (watch && firstTokenMs === null && watch.push(chunk)) firstTokenMs = elapsed();
      timer.refresh();
      if (!res.write(chunk)) {
        upstreamResponse.pause();
        waitingForClient = true;
        res.once('drain', () => {
          waitingForClient = false;
          timer.refresh();
          upstreamResponse.resume();
        });
      }
    });
    upstreamResponse.on('end', () => {
      res.end();
      if (status >= 400) finish('error', 'upstream_error', `The upstream answered ${status}${upstreamResponse.statusMessage ? ` ${upstreamResponse.statusMessage}` : ''}.`);
      else finish('complete', 'done', null);
    });
    upstreamResponse.on('error', () => {
      // Reported by 'close' below, with the reason.
    });
    upstreamResponse.on('close', () => {
      if (done || upstreamResponse.complete) return;
      res.destroy();
      finish('partial', 'network_error', `The upstream "${upstream.name}" closed the connection in the middle of its answer; the caller's connection was cut.`);
    });
  });

  upstreamRequest.on('error', (err: NodeJS.ErrnoException) => {
    if (done || response) return;
    const message = `Could not reach the upstream "${upstream.name}" at ${upstream.baseUrl}: ${err.code ?? err.message}.`;
    sendProxyError(res, 'upstream_unreachable', message);
    finish('error', 'network_error', message);
  });

  res.on('close', () => {
    if (done || res.writableFinished) return;
    upstreamRequest.destroy();
    finish('partial', 'client_abort', 'The caller disconnected before the answer was complete.');
  });

  req.on('data', (chunk: Buffer) => {
    requestTap.push(chunk);
    timer.refresh();
  });
  req.pipe(upstreamRequest);
}

const targets = new Map<string, { secure: boolean; hostname: string; port: number; basePath: string }>();

/** An upstream's base URL taken apart once (calls reuse it). */
function upstreamTarget(baseUrl: string) {
  let target = targets.get(baseUrl);
  if (!target) {
    const url = new URL(baseUrl);
    const secure = url.protocol === 'https:';
    target = { secure, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) || (secure ? 443 : 80), basePath: url.pathname.replace(/\/$/, '') };
    targets.set(baseUrl, target);
  }
  return target;
}
