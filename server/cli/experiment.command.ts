import { parseArgs } from 'node:util';
import type { CliCommand, CliIo } from './cli-command.ts';

/**
 * Flags mapped onto technique parameters (camelCase keys of the technique's params). A flag is accepted only by the
 * techniques whose parameters have that key; `--params JSON` gives the whole document and flags override it.
 */
const PARAM_FLAGS: Record<string, { key: string; kind: 'text' | 'number' | 'token' | 'numbers' | 'strings' }> = {
  target: { key: 'target', kind: 'token' },
  contrast: { key: 'contrast', kind: 'token' },
  answer: { key: 'answer', kind: 'token' },
  wrong: { key: 'wrong', kind: 'token' },
  clean: { key: 'clean', kind: 'text' },
  corrupted: { key: 'corrupted', kind: 'text' },
  layer: { key: 'layer', kind: 'number' },
  layers: { key: 'layers', kind: 'numbers' },
  heads: { key: 'heads', kind: 'numbers' },
  position: { key: 'position', kind: 'number' },
  positions: { key: 'positions', kind: 'numbers' },
  coefficient: { key: 'coefficient', kind: 'number' },
  'max-new-tokens': { key: 'maxNewTokens', kind: 'number' },
  temperature: { key: 'temperature', kind: 'number' },
  'top-k': { key: 'topK', kind: 'number' },
  'top-p': { key: 'topP', kind: 'number' },
  k: { key: 'k', kind: 'number' },
  hooks: { key: 'hooks', kind: 'strings' },
  kinds: { key: 'kinds', kind: 'strings' },
  percentile: { key: 'percentile', kind: 'number' },
  verify: { key: 'verify', kind: 'number' },
};

const HELP_OPTIONS = `Options:
  --model DIR          model folder in Hugging Face layout (config.json, safetensors, tokenizer); required
  --prompt TEXT        the prompt as text (BOS is prepended as TransformerLens does for the architecture)
  --tokens 1,2,3       the prompt as token ids (used as given)
  --params JSON        the technique's parameters document (flags below override its fields)
  --seed N             seed of any sampling (recorded in the result)
  --threads N          worker threads for the matrix products (default: up to 2)
  --json               print the result document (JSON) instead of a readable summary
  Technique flags, where the technique has that parameter: --target, --contrast, --answer, --wrong (a token id or
  text that is one token), --clean, --corrupted, --layer, --layers 0,1, --heads, --position, --positions,
  --coefficient, --max-new-tokens, --temperature, --top-k, --top-p, --k, --hooks a,b, --kinds a,b, --percentile,
  --verify; steering: --positive TEXT --negative TEXT (a contrast pair for the vector).
Progress goes to stderr. "menagerie experiment TECHNIQUE --help" lists a technique's parameters.`;

/** A user error: printed as one paragraph, exit code 1 (or 2 for usage). */
class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

function parseValue(flag: string, kind: (typeof PARAM_FLAGS)[string]['kind'], raw: string): unknown {
  const num = (s: string) => {
    const n = Number(s.trim());
    if (s.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} takes a number; "${s}" is not one.`);
    return n;
  };
  switch (kind) {
    case 'text':
      return raw;
    case 'number':
      return num(raw);
    case 'token':
      return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    case 'numbers':
      return raw.split(',').map(num);
    case 'strings':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
}

/** Progress on stderr: one updating line on a terminal, plain lines (at most a few a second) otherwise. */
function progressReporter(io: CliIo, name: string): { report: (done: number, total: number, label?: string) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    report(done, total, label) {
      const now = Date.now();
      const final = done >= total;
      if (!final && now - last < (tty ? 100 : 1000)) return;
      last = now;
      const line = `${name}: ${done}/${total}${label ? ` ${label}` : ''}`;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        shown = true;
      } else io.err(line);
    },
    end() {
      if (tty && shown) process.stderr.write('\n');
    },
  };
}

export const experimentCommand: CliCommand = {
  async run(argv, io) {
    const { techniques } = await import('../../experiments/techniques/index.ts');
    const usage = () =>
      `Usage: menagerie experiment TECHNIQUE --model DIR [--prompt TEXT | --tokens IDS] [technique options] [--json]\n\nTechniques:\n${techniques
        .map((t) => `  ${t.name.padEnd(14)} ${t.summary}`)
        .join('\n')}\n\n${HELP_OPTIONS}`;
    const flagOptions = Object.fromEntries(Object.keys(PARAM_FLAGS).map((f) => [f, { type: 'string' as const }]));
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          ...flagOptions,
          model: { type: 'string' },
          prompt: { type: 'string' },
          tokens: { type: 'string' },
          params: { type: 'string' },
          positive: { type: 'string' },
          negative: { type: 'string' },
          seed: { type: 'string' },
          threads: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      io.err(`${(e as Error).message}\n\n${usage()}`);
      return 2;
    }
    const { values, positionals } = parsed;
    const name = positionals[0];
    if (!name) {
      (values.help ? io.out : io.err)(usage());
      return values.help ? 0 : 2;
    }
    const technique = techniques.find((t) => t.name === name);
    if (!technique) {
      io.err(`There is no technique "${name}". The techniques are: ${techniques.map((t) => t.name).join(', ')}.\n\n${usage()}`);
      return 2;
    }
    const { z } = await import('zod');
    const schema = z.toJSONSchema(technique.params, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, { description?: string; type?: unknown; default?: unknown }>;
      required?: string[];
    };
    const keys = Object.keys(schema.properties ?? {});
    if (values.help) {
      const lines = keys.map((k) => {
        const p = schema.properties![k]!;
        const req = schema.required?.includes(k) && p.default === undefined ? ' (required)' : '';
        const def = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : '';
        return `  ${k}${req}${def}`;
      });
      io.out(`menagerie experiment ${technique.name}: ${technique.summary}\n\nParameters (--params JSON, or the matching flags):\n${lines.join('\n')}\n\n${HELP_OPTIONS}`);
      return 0;
    }

    try {
      if (!values.model) throw new UsageError(`Name the model folder with --model DIR.\n\n${usage()}`);
      if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}". Put text in --prompt "..." (quoted).`);
      let params: Record<string, unknown> = {};
      if (values.params !== undefined) {
        try {
          params = JSON.parse(values.params);
        } catch (e) {
          throw new UsageError(`--params is not valid JSON: ${(e as Error).message}.`);
        }
        if (!params || typeof params !== 'object' || Array.isArray(params)) throw new UsageError('--params is a JSON object of the technique\'s parameters.');
      }
      const set = (flag: string, key: string, value: unknown) => {
        if (!keys.includes(key)) {
          throw new UsageError(`The ${technique.name} technique has no --${flag} option; its parameters are: ${keys.join(', ')}.`);
        }
        params[key] = value;
      };
      if (values.prompt !== undefined && values.tokens !== undefined) throw new UsageError('Give the prompt as --prompt TEXT or as --tokens IDS, not both.');
      if (values.prompt !== undefined) set('prompt', 'prompt', values.prompt);
      if (values.tokens !== undefined) set('tokens', 'prompt', parseValue('tokens', 'numbers', values.tokens));
      for (const [flag, spec] of Object.entries(PARAM_FLAGS)) {
        const raw = (values as Record<string, unknown>)[flag];
        if (typeof raw === 'string') set(flag, spec.key, parseValue(flag, spec.kind, raw));
      }
      if (values.positive !== undefined || values.negative !== undefined) {
        if (values.positive === undefined || values.negative === undefined) throw new UsageError('--positive and --negative go together (a contrast pair of prompts).');
        set('positive', 'vector', { kind: 'contrast', positive: values.positive, negative: values.negative });
      }
      let seed: number | undefined;
      if (values.seed !== undefined) {
        seed = parseValue('seed', 'number', values.seed) as number;
        if (keys.includes('seed')) params.seed = seed;
      }
      let threads: number | undefined;
      if (values.threads !== undefined) {
        threads = parseValue('threads', 'number', values.threads) as number;
        if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new UsageError('--threads is a whole number from 0 to 64.');
      }

      const { loadModel } = await import('../../experiments/index.ts');
      const { parseParams, runTechnique } = await import('../../experiments/techniques/run-technique.ts');
      parseParams(technique, params); // refuse bad parameters before loading the model
      const model = await loadModel(values.model, threads === undefined ? {} : { threads });
      const progress = progressReporter(io, technique.name);
      try {
        const doc = await runTechnique(technique.name, params, { model, modelDir: values.model, progress: progress.report, ...(seed !== undefined ? { seed } : {}) });
        progress.end();
        io.out(values.json ? JSON.stringify(doc) : technique.summarize(doc.result, model));
      } finally {
        progress.end();
        await model.close();
      }
      return 0;
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(e.message);
        return e.exitCode;
      }
      const err = e as { name?: string; id?: string; message?: string };
      if (err?.name === 'EngineError') {
        io.err(`${technique.name} failed (${err.id}): ${err.message}`);
        return 1;
      }
      io.err(`${technique.name} failed: ${err?.message ?? String(e)}`);
      return 1;
    }
  },
};
