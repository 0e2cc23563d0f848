import { captureApis, type CaptureApi } from '../../observations/capture/capture.schema.ts';

/** A model API the recording proxy forwards to, reached at `/proxy/<name>/v1/...`. */
export interface ProxyUpstream {
  /** The route segment and the capture's `upstream` (`openai`, `anthropic`, `ollama`...). */
  name: string;
  /** Which API it speaks; any OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio) speaks `openai`. */
  api: CaptureApi;
  /** The URL that `/v1/...` is appended to, without a trailing slash (`https://api.openai.com`). */
  baseUrl: string;
}

/** Always there unless overridden by name: the two providers' own APIs. */
export const DEFAULT_UPSTREAMS: readonly ProxyUpstream[] = [
  { name: 'openai', api: 'openai', baseUrl: 'https://api.openai.com' },
  { name: 'anthropic', api: 'anthropic', baseUrl: 'https://api.anthropic.com' },
];

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Reads `MENAGERIE_PROXY_UPSTREAMS`: comma-separated `NAME=API:URL` entries, e.g.
 * `ollama=openai:http://127.0.0.1:11434,vllm=openai:http://gpu-box:8000`. Entries are added to the defaults
 * (openai and anthropic, the providers' APIs); an entry with a default's name replaces it. Returns the list, or
 * every problem in words so the operator can fix them all at once.
 */
export function parseUpstreams(text: string): { upstreams: ProxyUpstream[] } | { problems: string[] } {
  const byName = new Map(DEFAULT_UPSTREAMS.map((u) => [u.name, u]));
  const problems: string[] = [];
  const seen = new Set<string>();
  text
    .split(',')
    .map((entry) => entry.trim())
    .forEach((entry, i) => {
      if (entry === '') return;
      const where = `entry ${i + 1} ("${entry}")`;
      const match = /^([^=]+)=([^:]+):(.+)$/.exec(entry);
      if (!match) {
        problems.push(`${where} must look like NAME=API:URL, for example ollama=openai:http://127.0.0.1:11434`);
        return;
      }
      const [, rawName, rawApi, rawUrl] = match;
      const name = rawName!.trim().toLowerCase();
      const api = rawApi!.trim().toLowerCase();
      if (!NAME.test(name)) problems.push(`${where}: the name "${name}" must be lower-case letters, digits, "-" or "_" (it becomes /proxy/${name || 'NAME'}/v1)`);
      else if (name === 't') problems.push(`${where}: the name "t" is taken by the token-in-path form /proxy/t/TOKEN/...`);
      else if (seen.has(name)) problems.push(`${where}: the name "${name}" is given twice`);
      seen.add(name);
      if (!(captureApis as readonly string[]).includes(api)) problems.push(`${where}: the API "${api}" must be one of ${captureApis.join(', ')} (OpenAI-compatible servers speak openai)`);
      const url = parseBaseUrl(rawUrl!.trim());
      if (typeof url !== 'string') problems.push(`${where}: ${url.problem}`);
      if (problems.length === 0 && typeof url === 'string') byName.set(name, { name, api: api as CaptureApi, baseUrl: url });
    });
  return problems.length > 0 ? { problems } : { upstreams: [...byName.values()] };
}

function parseBaseUrl(text: string): string | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `"${text}" is not a URL (write it with its scheme, e.g. http://127.0.0.1:11434)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `"${text}" must be an http:// or https:// URL` };
  if (url.search || url.hash || url.username || url.password) return { problem: `"${text}" must have no query, fragment or credentials (the caller's own key passes through)` };
  if (/\/v1\/?$/.test(url.pathname)) return { problem: `"${text}" must not end in /v1: give the URL that /v1/... is appended to` };
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
