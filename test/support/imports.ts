import type { ImportView } from '../../observations/import.presenter.ts';
import type { ApiClient, Res } from './clients.ts';

/** One generic JSONL line (an OpenAI-style exchange) with its own id, so each line is a distinct record. */
export const jsonlLine = (id: string, question: string, answer = 'Sure.') =>
  JSON.stringify({ id, model: 'gpt-4o', provider: 'openai', observedAt: '2025-02-03T04:05:06Z', messages: [{ role: 'user', content: question }, { role: 'assistant', content: answer }] });

/** `count` good lines (ids `${prefix}-0`…) as a JSONL file's text. */
export const jsonlFile = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => jsonlLine(`${prefix}-${i}`, `Question ${prefix} number ${i}?`)).join('\n') + '\n';

/** `POST /api/v1/imports` with the file as the raw body, as an API client or the page's script sends it. */
export async function uploadImport(
  base: string,
  body: string | Uint8Array | ReadableStream<Uint8Array>,
  options: { token?: string; fileName?: string; format?: string; headers?: Record<string, string> } = {},
): Promise<Res<any>> {
  const query = new URLSearchParams();
  if (options.fileName !== undefined) query.set('fileName', options.fileName);
  if (options.format !== undefined) query.set('format', options.format);
  const res = await fetch(`${base}/api/v1/imports?${query}`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/octet-stream',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: body as BodyInit,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Keep non-JSON answers as text for the assertion message.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Polls `GET /api/v1/imports/:id` until the import has finished (done or failed). */
export async function waitForImport(api: ApiClient, id: string, timeoutMs = 60_000): Promise<ImportView> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await api.get(`/imports/${id}`);
    if (res.status !== 200) throw new Error(`GET /imports/${id}: ${res.status} ${res.text}`);
    if ((res.body as ImportView).finished) return res.body as ImportView;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`import ${id} did not finish within ${timeoutMs} ms`);
}
