/**
 * BPE tokenizers from a model folder, without Python: `tokenizer.json` (Hugging Face `tokenizers` format) or
 * `vocab.json` + `merges.txt` (GPT-2 style). Two families are handled:
 *  - byte-level BPE (GPT-2, Llama 3, Qwen2, Pythia, SmolLM): text split by the pre-tokenizer's regex, each piece's
 *    UTF-8 bytes mapped to printable code points (space -> Ġ) and merged;
 *  - sentencepiece-style BPE (Llama 2, Mistral): spaces become ▁ (normalizer or Metaspace), merges on characters,
 *    unknown characters fall back to `<0xNN>` byte tokens.
 * Added tokens (such as `<|endoftext|>`) are matched in the text first, as the `tokenizers` library does.
 * The tokenizer never adds BOS itself: the model's `toTokens` does, with TransformerLens' `prepend_bos` semantics.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from './errors.ts';

/** GPT-2's pre-tokenizer pattern (openai/gpt-2 encoder.py), used by ByteLevel with `use_regex`. */
const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** GPT-2's reversible byte -> printable character map. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(bs.includes(b) ? b : 256 + n++);
  }
  return map;
}
const BYTE_TO_CHAR = bytesToUnicode();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** Rewrites an Oniguruma-style pattern from tokenizer.json into a JS (u-flag) one: `(?i:...)`, possessive quantifiers. */
export function toJsRegex(pattern: string): RegExp {
  let out = pattern.replace(/\(\?i:((?:[^()\\]|\\.)*)\)/g, (_m, body: string) => {
    const expanded = body.replace(/\\.|[a-zA-Z]/g, (c) => (c.length === 1 ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c));
    return `(?:${expanded})`;
  });
  // Possessive quantifiers (x++, x?+, x{1,3}+) have no JS form; the plain quantifier splits the same on these patterns.
  out = out.replace(/\\.|(\{\d+(?:,\d*)?\}|[?*+])\+/gu, (m, q: string | undefined) => q ?? m);
  try {
    return new RegExp(out, 'gu');
  } catch (e) {
    throw new EngineError('unsupported_tokenizer', `The tokenizer's split pattern ${JSON.stringify(pattern)} cannot be used here: ${(e as Error).message}.`);
  }
}

type Json = Record<string, unknown> & { type?: string };

interface AddedToken {
  id: number;
  content: string;
}

export interface TokenizerInfo {
  /** Where it came from: 'tokenizer.json' or 'vocab.json+merges.txt'. */
  source: string;
  kind: 'byte-level' | 'sentencepiece';
}

export class BpeTokenizer {
  readonly info: TokenizerInfo;
  private readonly vocab: Map<string, number>;
  private readonly idToTokenTable: string[];
  private readonly ranks: Map<string, number>;
  private readonly added: AddedToken[];
  private readonly addedById = new Map<number, string>();
  private readonly splitters: { re: RegExp; behavior: string }[];
  private readonly normalizers: Json[];
  private readonly metaspace: { replacement: string; prepend: 'always' | 'first' | 'never'; split: boolean } | null;
  private readonly byteFallback: boolean;
  private readonly unkId: number | null;
  private readonly ignoreMerges: boolean;
  private readonly stripLeadingSpace: boolean;
  private readonly addPrefixSpace: boolean;
  private readonly cache = new Map<string, number[]>();
  private readonly addedRe: RegExp | null;

  constructor(opts: {
    source: string;
    kind: 'byte-level' | 'sentencepiece';
    vocab: Map<string, number>;
    merges: [string, string][];
    added: AddedToken[];
    splitters: { re: RegExp; behavior: string }[];
    normalizers: Json[];
    metaspace: BpeTokenizer['metaspace'];
    byteFallback: boolean;
    unkToken: string | null;
    ignoreMerges: boolean;
    stripLeadingSpace: boolean;
    addPrefixSpace: boolean;
  }) {
    this.info = { source: opts.source, kind: opts.kind };
    this.vocab = opts.vocab;
    this.ranks = new Map(opts.merges.map(([a, b], i) => [`${a}\u0000${b}`, i]));
    this.added = opts.added;
    this.splitters = opts.splitters;
    this.normalizers = opts.normalizers;
    this.metaspace = opts.metaspace;
    this.byteFallback = opts.byteFallback;
    this.unkId = opts.unkToken !== null ? (this.vocab.get(opts.unkToken) ?? null) : null;
    this.ignoreMerges = opts.ignoreMerges;
    this.stripLeadingSpace = opts.stripLeadingSpace;
    this.addPrefixSpace = opts.addPrefixSpace;
    this.idToTokenTable = [];
    for (const [tok, id] of this.vocab) this.idToTokenTable[id] = tok;
    for (const a of this.added) {
      this.idToTokenTable[a.id] = a.content;
      this.addedById.set(a.id, a.content);
    }
    const sorted = [...this.added].sort((a, b) => b.content.length - a.content.length);
    this.addedRe = sorted.length ? new RegExp(sorted.map((a) => a.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
  }

  /** One more than the largest token id (the embedding matrix needs at least this many rows). */
  get vocabSize(): number {
    return this.idToTokenTable.length;
  }

  /** The token string for an id (byte-level tokens show Ġ for a leading space), or undefined. */
  idToToken(id: number): string | undefined {
    return this.idToTokenTable[id];
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token) ?? this.added.find((a) => a.content === token)?.id;
  }

  /** Token ids for `text`; added/special tokens written in the text are recognised. No BOS is added. */
  encode(text: string): number[] {
    const ids: number[] = [];
    let first = true;
    const segment = (s: string) => {
      if (s.length) ids.push(...this.encodeOrdinary(s, first));
      first = false;
    };
    if (!this.addedRe) {
      segment(text);
      return ids;
    }
    let last = 0;
    for (const m of text.matchAll(this.addedRe)) {
      segment(text.slice(last, m.index));
      ids.push(this.added.find((a) => a.content === m[0])!.id);
      first = false;
      last = m.index + m[0].length;
    }
    segment(text.slice(last));
    return ids;
  }

  private encodeOrdinary(text: string, atStart: boolean): number[] {
    let s = this.normalize(text);
    if (this.addPrefixSpace && atStart && !s.startsWith(' ')) s = ' ' + s;
    let pieces: string[] = [s];
    if (this.metaspace) {
      const { replacement, prepend, split } = this.metaspace;
      let t = s.replaceAll(' ', replacement);
      if ((prepend === 'always' || (prepend === 'first' && atStart)) && !t.startsWith(replacement)) t = replacement + t;
      pieces = split ? t.split(new RegExp(`(?=${replacement})`, 'u')).filter((p) => p.length) : [t];
    }
    for (const { re, behavior } of this.splitters) pieces = pieces.flatMap((p) => splitPiece(p, re, behavior));
    const ids: number[] = [];
    for (const piece of pieces) {
      const word = this.info.kind === 'byte-level' ? [...Buffer.from(piece, 'utf8')].map((b) => BYTE_TO_CHAR[b]!).join('') : piece;
      ids.push(...this.bpeWord(word));
    }
    return ids;
  }

  private normalize(text: string): string {
    let s = text;
    for (const n of this.normalizers) {
      switch (n.type) {
        case 'NFC': case 'NFD': case 'NFKC': case 'NFKD':
          s = s.normalize(n.type);
          break;
        case 'Lowercase':
          s = s.toLowerCase();
          break;
        case 'Prepend':
          s = (n.prepend as string) + s;
          break;
        case 'Replace': {
          const pat = n.pattern as { String?: string; Regex?: string };
          if (pat.String !== undefined) s = s.replaceAll(pat.String, n.content as string);
          else if (pat.Regex !== undefined) s = s.replace(toJsRegex(pat.Regex), n.content as string);
          break;
        }
        default:
          throw new EngineError('unsupported_tokenizer', `The tokenizer's normalizer ${n.type} is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace).`);
      }
    }
    return s;
  }

  private bpeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let ids: number[];
    const whole = this.vocab.get(word);
    if (this.ignoreMerges && whole !== undefined) {
      ids = [whole];
    } else {
      let symbols = Array.from(word);
      while (symbols.length > 1) {
        let best = Infinity;
        let bestAt = -1;
        for (let i = 0; i < symbols.length - 1; i++) {
          const r = this.ranks.get(`${symbols[i]}\u0000${symbols[i + 1]}`);
          if (r !== undefined && r < best) {
            best = r;
            bestAt = i;
          }
        }
        if (bestAt < 0) break;
        const a = symbols[bestAt]!;
        const b = symbols[bestAt + 1]!;
        const merged: string[] = [];
        for (let i = 0; i < symbols.length; i++) {
          if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
            merged.push(a + b);
            i++;
          } else merged.push(symbols[i]!);
        }
        symbols = merged;
      }
      ids = [];
      for (const sym of symbols) {
        const id = this.vocab.get(sym);
        if (id !== undefined) ids.push(id);
        else if (this.byteFallback) {
          for (const byte of Buffer.from(sym, 'utf8')) {
            const fb = this.vocab.get(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
            if (fb !== undefined) ids.push(fb);
            else if (this.unkId !== null) ids.push(this.unkId);
          }
        } else if (this.unkId !== null) {
          if (!(ids.length && ids[ids.length - 1] === this.unkId)) ids.push(this.unkId);
        } else {
          throw new EngineError('unsupported_tokenizer', `The tokenizer cannot encode ${JSON.stringify(sym)}: it is not in the vocabulary and there is no byte fallback or unknown token.`);
        }
      }
    }
    if (this.cache.size < 100_000) this.cache.set(word, ids);
    return ids;
  }

  /** Text for token ids (added tokens as their content). */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    const pushText = (t: string) => bytes.push(...Buffer.from(t, 'utf8'));
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added !== undefined) {
        pushText(added);
        continue;
      }
      const tok = this.idToTokenTable[id];
      if (tok === undefined) throw new EngineError('invalid_input', `Token id ${id} is not in the tokenizer's vocabulary (size ${this.vocabSize}).`);
      if (this.info.kind === 'byte-level') {
        for (const ch of tok) {
          const b = CHAR_TO_BYTE.get(ch);
          if (b !== undefined) bytes.push(b);
          else pushText(ch);
        }
      } else {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(tok);
        if (m && this.byteFallback) bytes.push(parseInt(m[1]!, 16));
        else pushText(tok.replaceAll(this.metaspace?.replacement ?? '▁', ' '));
      }
    }
    let text = new TextDecoder('utf-8').decode(new Uint8Array(bytes));
    if (this.stripLeadingSpace && text.startsWith(' ')) text = text.slice(1);
    return text;
  }

  /**
   * The bytes a token stands for (byte-level tokens, and `<0xNN>` byte-fallback tokens), or null for added tokens
   * and for pieces without a byte form. The under-trained token scan uses it to find tokens no text can produce.
   */
  tokenBytes(id: number): Uint8Array | null {
    if (this.addedById.has(id)) return null;
    const tok = this.idToTokenTable[id];
    if (tok === undefined) return null;
    if (this.info.kind === 'byte-level') {
      const bytes: number[] = [];
      for (const ch of tok) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b === undefined) return null;
        bytes.push(b);
      }
      return Uint8Array.from(bytes);
    }
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(tok);
    if (m && this.byteFallback) return Uint8Array.of(parseInt(m[1]!, 16));
    return new Uint8Array(Buffer.from(tok.replaceAll(this.metaspace?.replacement ?? '▁', ' '), 'utf8'));
  }

  /** Each token's own text (for displays: logit-lens tables, attention labels). */
  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id) => this.decode([id]));
  }
}

function splitPiece(piece: string, re: RegExp, behavior: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of piece.matchAll(re)) {
    if (m[0].length === 0) continue;
    const gap = piece.slice(last, m.index);
    if (behavior === 'Removed') {
      if (gap) out.push(gap);
    } else if (behavior === 'MergedWithPrevious') {
      out.push(gap + m[0]);
    } else if (behavior === 'MergedWithNext') {
      if (gap) out.push(gap);
      // handled by prefixing the next gap
      out.push(m[0]);
    } else {
      if (gap) out.push(gap);
      out.push(m[0]);
    }
    last = m.index + m[0].length;
  }
  if (last < piece.length) out.push(piece.slice(last));
  return out;
}

function flatten(node: Json | null | undefined, key: 'pretokenizers' | 'normalizers' | 'decoders'): Json[] {
  if (!node) return [];
  if (node.type === 'Sequence') return ((node[key] as Json[]) ?? []).flatMap((n) => flatten(n, key));
  return [node];
}

/** Builds a tokenizer from a parsed tokenizer.json. */
export function tokenizerFromJson(json: Json, source = 'tokenizer.json'): BpeTokenizer {
  const model = json.model as Json | undefined;
  const modelType = model?.type ?? (model && 'merges' in model ? 'BPE' : undefined);
  if (!model || modelType !== 'BPE') {
    throw new EngineError('unsupported_tokenizer', `The tokenizer model type ${JSON.stringify(modelType)} is not supported: only BPE tokenizers are (byte-level as GPT-2/Llama 3/Qwen2, or sentencepiece-style as Llama 2).`);
  }
  const vocab = new Map(Object.entries(model.vocab as Record<string, number>));
  const merges = ((model.merges as (string | [string, string])[]) ?? []).map((m): [string, string] => {
    if (Array.isArray(m)) return [m[0], m[1]];
    const i = m.indexOf(' ', 1);
    return [m.slice(0, i), m.slice(i + 1)];
  });
  const pre = flatten(json.pre_tokenizer as Json, 'pretokenizers');
  const decoders = flatten(json.decoder as Json, 'decoders');
  const normalizers = flatten(json.normalizer as Json, 'normalizers');
  const splitters: { re: RegExp; behavior: string }[] = [];
  let byteLevel = decoders.some((d) => d.type === 'ByteLevel');
  let addPrefixSpace = false;
  let metaspace: BpeTokenizer['metaspace'] = null;
  for (const p of pre) {
    if (p.type === 'ByteLevel') {
      byteLevel = true;
      addPrefixSpace = p.add_prefix_space === true;
      if (p.use_regex !== false) splitters.push({ re: new RegExp(GPT2_PATTERN, 'gu'), behavior: 'Isolated' });
    } else if (p.type === 'Split') {
      const pat = p.pattern as { String?: string; Regex?: string };
      const re = pat.Regex !== undefined ? toJsRegex(pat.Regex) : new RegExp((pat.String ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
      if (p.invert) throw new EngineError('unsupported_tokenizer', 'Inverted Split pre-tokenizers are not supported.');
      splitters.push({ re, behavior: (p.behavior as string) ?? 'Isolated' });
    } else if (p.type === 'Metaspace') {
      const prepend = (p.prepend_scheme as string | undefined) ?? (p.add_prefix_space === false ? 'never' : 'always');
      metaspace = { replacement: (p.replacement as string) ?? '▁', prepend: prepend as 'always' | 'first' | 'never', split: p.split !== false };
    } else if (p.type === 'Digits') {
      splitters.push({ re: p.individual_digits ? /\p{N}/gu : /\p{N}+/gu, behavior: 'Isolated' });
    } else if (p.type === 'Whitespace' || p.type === 'WhitespaceSplit') {
      splitters.push({ re: /\s+/gu, behavior: 'Removed' });
    } else {
      throw new EngineError('unsupported_tokenizer', `The tokenizer's pre-tokenizer ${p.type} is not supported (supported: ByteLevel, Split, Metaspace, Digits, Whitespace).`);
    }
  }
  const added = ((json.added_tokens as { id: number; content: string }[]) ?? []).map((a) => ({ id: a.id, content: a.content }));
  const stripLeadingSpace =
    !byteLevel &&
    (decoders.some((d) => d.type === 'Strip' && ((d.start as number) ?? 0) > 0) ||
      decoders.some((d) => d.type === 'Metaspace' && (d.prepend_scheme ?? 'always') !== 'never' && d.add_prefix_space !== false));
  return new BpeTokenizer({
    source,
    kind: byteLevel ? 'byte-level' : 'sentencepiece',
    vocab,
    merges,
    added,
    splitters,
    normalizers,
    metaspace,
    byteFallback: model.byte_fallback === true,
    unkToken: (model.unk_token as string | null | undefined) ?? null,
    ignoreMerges: model.ignore_merges === true,
    stripLeadingSpace,
    addPrefixSpace,
  });
}

/** Loads the tokenizer of a model folder: tokenizer.json, else vocab.json + merges.txt. */
export function loadTokenizer(dir: string): BpeTokenizer {
  const tj = path.join(dir, 'tokenizer.json');
  if (existsSync(tj)) {
    let json: Json;
    try {
      json = JSON.parse(readFileSync(tj, 'utf8')) as Json;
    } catch {
      throw new EngineError('unsupported_tokenizer', `${tj} is not valid JSON.`);
    }
    return tokenizerFromJson(json);
  }
  const vj = path.join(dir, 'vocab.json');
  const mt = path.join(dir, 'merges.txt');
  if (existsSync(vj) && existsSync(mt)) {
    const vocab = JSON.parse(readFileSync(vj, 'utf8')) as Record<string, number>;
    const merges = readFileSync(mt, 'utf8')
      .split('\n')
      .filter((l) => l.length && !l.startsWith('#version'))
      .map((l) => l.trimEnd());
    const added = Object.entries(vocab)
      .filter(([t]) => /^<\|.*\|>$/.test(t))
      .map(([content, id]) => ({ id, content }));
    return tokenizerFromJson(
      { model: { type: 'BPE', vocab, merges }, pre_tokenizer: { type: 'ByteLevel' }, decoder: { type: 'ByteLevel' }, added_tokens: added },
      'vocab.json+merges.txt',
    );
  }
  throw new EngineError(
    'model_incomplete',
    `No tokenizer in ${dir}: expected tokenizer.json, or vocab.json and merges.txt.`,
    { dir },
  );
}
