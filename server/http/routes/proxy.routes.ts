import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveApiToken } from '../../../accounts/api-tokens.ts';
import type { UserActor } from '../../../accounts/actor.ts';
import { AppError } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import type { CaptureLog } from '../../../observations/capture/capture-log.ts';
import type { AppDeps } from '../../app-deps.ts';
import { captureInputOf } from '../../proxy/exchange-capture.ts';
import { createUpstreamAgents, forwardCall } from '../../proxy/forward-call.ts';
import { flagNote, providerKeyHash } from '../../proxy/forward-headers.ts';
import { sendProxyError } from '../../proxy/proxy-errors.ts';
import type { ProxyUpstream } from '../../proxy/upstreams.ts';
import { toAppError } from '../middleware/errors.ts';

/** Where a proxied call goes, read from the URL under /proxy. */
interface ProxyRoute {
  upstreamName: string;
  /** From the API's root, query kept: `/v1/chat/completions?x=1`. */
  path: string;
}

export interface RecordingProxy {
  /** Request handler for everything under `/proxy` (mounted before the body parsers: it streams raw bodies). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Closes the keep-alive connections to the upstreams. */
  close(): void;
}

/**
 * The recording proxy: `/proxy/<upstream>/v1/*` with the caller's Menagerie API token in `X-Menagerie-Token`, or
 * `/proxy/t/<TOKEN>/<upstream>/v1/*` for tools that can only set a base URL. A missing, wrong or revoked token
 * (or an account that may not record captures) is a 401/403 JSON answer and nothing is forwarded. Everything else
 * is forwarded to the configured upstream as it is, the caller's own `Authorization` / `x-api-key` carrying the
 * provider key, and every call is handed to the capture log once it has ended.
 */
export function recordingProxy(deps: AppDeps, captureLog: CaptureLog): RecordingProxy {
  const upstreams = new Map<string, ProxyUpstream>(deps.config.proxyUpstreams.map((u) => [u.name, u]));
  const agents = createUpstreamAgents();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!deps.config.proxyEnabled) throw new AppError('not_found', 'The recording proxy is turned off on this site (MENAGERIE_PROXY_ENABLED=false).');
    const url = req.url ?? '/';
    const route = proxyRoute(url);
    const token = pathToken(url) ?? single(req.headers['x-menagerie-token']);
    const actor = await authenticateProxyCall(deps, token);
    if (!route) throw new AppError('not_found', `Proxy URLs look like /proxy/<upstream>/v1/... (upstreams here: ${[...upstreams.keys()].join(', ')}).`);
    const upstream = upstreams.get(route.upstreamName);
    if (!upstream) throw new AppError('not_found', `No upstream is named "${route.upstreamName}". Configured: ${[...upstreams.keys()].join(', ')} (MENAGERIE_PROXY_UPSTREAMS).`);
    captureLog.begin();
    forwardCall({
      upstream,
      path: route.path,
      req,
      res,
      agents,
      timeoutMs: deps.config.proxyTimeoutMs,
      keyHash: providerKeyHash(req.headers),
      flag: flagNote(req.headers),
      onFinished: (exchange) => captureLog.record(actor, () => captureInputOf(exchange)),
    });
  }

  return {
    handle(req, res) {
      handle(req, res).catch((err: unknown) => {
        const appErr = toAppError(err, req as never);
        if (appErr.id === 'internal') deps.logger.error('recording proxy', { error: (err as Error)?.stack ?? String(err) });
        sendProxyError(res, appErr.id, appErr.message);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/**
 * Resolves the Menagerie token of a proxied call to its user, who must be allowed to record captures. The
 * messages say where the token goes, since the caller's `Authorization` header is the provider's.
 */
async function authenticateProxyCall(deps: AppDeps, token: string | undefined): Promise<UserActor> {
  if (!token) {
    throw new AppError('unauthenticated', 'Send your Menagerie API token in the X-Menagerie-Token header (or call /proxy/t/<TOKEN>/<upstream>/v1/...). The provider key goes in Authorization or x-api-key as usual.');
  }
  const lookup = await resolveApiToken(deps.db, token, deps.now());
  if (lookup.state === 'revoked') throw new AppError('token_revoked', 'This Menagerie API token has been revoked. Create a new one on your account page.');
  if (lookup.state === 'unknown') throw new AppError('unauthenticated', 'This Menagerie API token is not valid (X-Menagerie-Token).');
  authorize(lookup.actor, 'capture.create');
  return lookup.actor;
}

/** Reads `/<upstream>/v1/...` or `/t/<token>/<upstream>/v1/...`; null when the URL has neither shape. */
export function proxyRoute(url: string): ProxyRoute | null {
  const queryAt = url.indexOf('?');
  const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);
  const match = /^\/(?:t\/[^/]+\/)?([^/]+)(\/v1(?:\/.*)?)$/.exec(pathname);
  if (!match) return null;
  const [, name, path] = match;
  // Dot segments would let a call climb out of /v1 at the upstream (URLs are forwarded as they are).
  if (/(^|\/)\.{1,2}(\/|$)/.test(path!) || /%2e/i.test(path!)) return null;
  return { upstreamName: decode(name!).toLowerCase(), path: path! + query };
}

/** The token of the path form, `/t/<token>/...`. */
function pathToken(url: string): string | undefined {
  const match = /^\/t\/([^/?]+)/.exec(url);
  return match ? decode(match[1]!) : undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v) || undefined;
