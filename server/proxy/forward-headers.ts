import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { storableHeaders } from '../../observations/capture/capture.input.ts';

/** Headers about one connection, not the message (RFC 9110 §7.6.1), plus `host` and `expect`, which the proxy sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const MENAGERIE_PREFIX = 'x-menagerie-';

/** Names the `Connection` header lists are hop-by-hop too. */
function connectionListed(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(text.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean));
}

/**
 * What the proxy sends upstream: the caller's headers (its `Authorization` / `x-api-key` included: that is the
 * provider key) without hop-by-hop headers, `host`, `expect` and every `X-Menagerie-*` header (our token and
 * flag are ours, never the provider's).
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name === 'host' || name === 'expect' || name.startsWith(MENAGERIE_PREFIX)) continue;
    out[name] = value;
  }
  return out;
}

/** The upstream's response headers for the caller, as raw name/value pairs (case and repeats kept), hop-by-hop ones removed. */
export function clientResponseHeaders(rawHeaders: string[], connection: string | string[] | undefined): string[] {
  const listed = connectionListed(connection);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return out;
}

const HEADER_VALUE_CAP = 8192;

/** Headers a capture may keep: credentials and `X-Menagerie-*` removed, values cut to what the field log stores. */
export function headersToStore(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(storableHeaders(headers))) {
    if (name.startsWith(MENAGERIE_PREFIX) || name.length > 200) continue;
    out[name] = value.length > HEADER_VALUE_CAP ? value.slice(0, HEADER_VALUE_CAP) : value;
  }
  return out;
}

/**
 * sha256 (hex) of the provider key the caller sent (`x-api-key`, `Authorization: Bearer`, or Azure's `api-key`),
 * so captures can be attributed to a key without the key ever being stored. The same key hashes the same
 * whichever header carried it.
 */
export function providerKeyHash(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  const key = single(headers['x-api-key']) ?? (auth ? auth.replace(/^\s*(Bearer|Basic|Token)\s+/i, '').trim() : undefined) ?? single(headers['api-key']);
  return key ? createHash('sha256').update(key).digest('hex') : null;
}

/**
 * The caller's `X-Menagerie-Flag` note. HTTP header values are bytes: a note sent as UTF-8 (curl) or
 * percent-encoded (`encodeURIComponent`, for clients that only allow ASCII) reads back as the text written.
 */
export function flagNote(headers: IncomingHttpHeaders): string | null {
  const raw = single(headers['x-menagerie-flag'])?.trim();
  if (!raw) return null;
  let text = raw;
  const utf8 = Buffer.from(raw, 'latin1').toString('utf8');
  if (!utf8.includes('\uFFFD')) text = utf8;
  if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // A note that merely contains "%": keep it as written.
    }
  }
  return text.slice(0, 2000);
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v) || undefined;
