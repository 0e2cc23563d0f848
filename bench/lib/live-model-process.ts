// The live-session benchmark's model: test/support/fake-chat-server.ts in its own process (forked with tsx), so its
// timers do not share an event loop with the server or with the 150 measuring clients. Every reply token is unique
// (`<session>.<turn>.<index> `, from a prompt naming "bench session S turn T"), and the moment each token is written
// to its HTTP response is recorded here (a wrapper around ServerResponse.write; the fake writes one token per call),
// so the benchmark can measure model -> server -> log -> every client.
// IPC: child -> parent {url} once; parent -> child {clock} (answered {clock, at}), 'writes' (answered
// {writes: [token, wall ms][]}), 'stop'.
import http from 'node:http';
import { startFakeChatServer, type FakeChatRequest } from '../../test/support/fake-chat-server.ts';
import { replyTokens } from './live-tokens.ts';

const TOKENS = Number(process.env.LIVE_MODEL_TOKENS ?? 200);
const DELAY_MS = Number(process.env.LIVE_MODEL_DELAY_MS ?? 15);
const wallMs = () => performance.timeOrigin + performance.now();

const writes = new Map<string, number>();
const TOKEN_IN_CHUNK = /"content":"(\d+\.\d+\.\d+ )"/g;
const originalWrite = http.ServerResponse.prototype.write;
http.ServerResponse.prototype.write = function (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]) {
  const result = (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  if (typeof chunk === 'string' && chunk.includes('"content":"')) {
    const at = wallMs();
    for (const m of chunk.matchAll(TOKEN_IN_CHUNK)) writes.set(m[1]!, at);
  }
  return result;
} as typeof originalWrite;

function lastUserText(request: FakeChatRequest): string {
  const messages = request.body.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return String(messages[i]!.content);
  return '';
}

const model = await startFakeChatServer({
  delayMs: DELAY_MS,
  tokens: (request) => {
    const m = /bench session (\d+) turn (\d+)/.exec(lastUserText(request));
    return m ? replyTokens(Number(m[1]), Number(m[2]), TOKENS) : ['unrecognised ', 'prompt '];
  },
});

process.on('message', (message: unknown) => {
  if (message === 'writes') process.send!({ writes: [...writes] });
  else if (message === 'stop') void model.close().then(() => process.exit(0));
  else if (typeof message === 'object' && message !== null && 'clock' in message) process.send!({ clock: (message as { clock: number }).clock, at: wallMs() });
});
process.send!({ url: model.openaiBaseUrl });
