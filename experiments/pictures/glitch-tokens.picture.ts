/**
 * `glitch-tokens`: a bar per candidate's indicator score (smaller is more suspicious) with the threshold drawn, and a
 * table of the candidates with both indicators and their verification.
 */
import { type GlitchTokensResult, glitchTokensTechnique } from '../techniques/glitch-tokens.ts';
import { bars } from './bars.ts';
import type { Presenter } from './picture.ts';
import { num, plural, quoted, tokenLabel } from './scale.ts';
import { table, td, th, tx } from './table.ts';

const MAX_BARS = 40;
const MAX_ROWS = 100;

const indicatorWords: Record<GlitchTokensResult['indicator'], string> = {
  unembedding_cosine: 'cosine distance of the unembedding row to the reference rows (first principal component removed)',
  embedding_norm: 'L2 norm of the input embedding row',
};

const statusWords: Record<string, string> = {
  strong_verified: 'verified (strong)',
  weak_verified: 'verified (weak)',
  weak_rejected: 'rejected (weak)',
  strong_rejected: 'rejected (strong)',
};

export const glitchTokensPicture: Presenter<GlitchTokensResult> = {
  technique: glitchTokensTechnique,
  present(r, ctx) {
    const shown = r.candidates.slice(0, MAX_BARS);
    const chart = shown.length
      ? bars({
        id: `${ctx.id}-bars`,
        title: `Indicator score of the first ${plural(shown.length, 'candidate')} for under-trained tokens (smaller is more suspicious), with the threshold at the ${r.distribution.percentile}th percentile`,
        items: shown.map((c) => ({ label: `#${c.rank} ${tokenLabel(c.text, 14)}`, title: `rank ${c.rank}: ${quoted(c.text)} (id ${c.id}), score ${num(c.score, 4)}`, value: c.score })),
        digits: 4,
        signed: false,
        axisLabel: r.indicator.replace(/_/g, ' '),
        reference: { value: r.distribution.threshold, label: `threshold ${num(r.distribution.threshold, 4)}` },
      })
      : null;
    const rows = r.candidates.slice(0, MAX_ROWS).map((c) => [
      th(String(c.rank)),
      td(String(c.id)),
      tx(tokenLabel(c.text, 24), { title: quoted(c.text) }),
      td(num(c.score, 4)),
      td(num(c.unembedding_cosine, 4)),
      td(num(c.embedding_norm, 4)),
      tx(c.verification ? statusWords[c.verification.status] ?? c.verification.status : 'not verified', {
        title: c.verification ? c.verification.prompts.map((p) => `${p.name}: ${num(p.max_prob, 4)} → ${quoted(p.output)}`).join('; ') : '',
      }),
      td(c.verification ? num(c.verification.max_prob, 4) : '—'),
    ]);
    const notes: string[] = [];
    if (r.candidates.length > MAX_BARS) notes.push(`The chart shows the first ${MAX_BARS} of ${plural(r.candidates.length, 'candidate')}.`);
    const candidates = table(
      'Candidate under-trained tokens, most suspicious first',
      [{ text: 'rank', num: true }, { text: 'id', num: true }, { text: 'token' }, { text: 'score', num: true }, { text: 'unembedding cosine', num: true }, { text: 'embedding norm', num: true }, { text: 'verification' }, { text: 'max prob', num: true }],
      rows,
      { fold: rows.length > 20, note: r.candidates.length > MAX_ROWS ? `The table lists the first ${MAX_ROWS} of ${plural(r.candidates.length, 'candidate')}.` : '' },
    );
    return {
      partial: 'experiments/glitch-tokens',
      view: {
        id: ctx.id,
        indicator: indicatorWords[r.indicator],
        tied: r.tied_embeddings ? 'tied' : 'untied',
        references: plural(r.reference_tokens.length, 'reference token'),
        referenceList: r.reference_tokens.slice(0, 30).map((t) => `${t.id} ${tokenLabel(t.text, 10)}`).join(', ') + (r.reference_tokens.length > 30 ? ', …' : ''),
        mean: num(r.distribution.mean, 4),
        std: num(r.distribution.std, 4),
        threshold: num(r.distribution.threshold, 4),
        percentile: r.distribution.percentile,
        eligible: r.distribution.eligible_tokens,
        count: r.candidates.length,
        verified: r.verified,
        chart,
        notes,
        candidates,
      },
      caption: `Under-trained token candidates: ${plural(r.candidates.length, 'candidate')}, ${r.verified} verified`,
    };
  },
};
