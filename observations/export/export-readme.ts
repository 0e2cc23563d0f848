import type { ListFilters } from '../observation.input.ts';
import { codingColumns, observationColumns, type CsvColumn } from './csv.ts';
import { EXPORT_LINE_FORMAT } from './export-record.ts';

/** The JSONL line's fields, in order, and what each holds. */
export const jsonlFields: { name: string; description: string }[] = [
  { name: 'format', description: `\`${EXPORT_LINE_FORMAT}\`: this line format.` },
  { name: 'id', description: 'The observation\'s id (UUID). The JSONL importer keeps it as the new observation\'s `provenance.recordId`.' },
  { name: 'title', description: 'Its title.' },
  { name: 'surprise', description: 'What the contributor found surprising.' },
  { name: 'status', description: 'submitted, triaged, coded, verified, rejected or duplicate.' },
  { name: 'duplicateOf', description: 'The id of the observation this one duplicates, or null.' },
  { name: 'visibility', description: 'members or public.' },
  { name: 'provider', description: 'Who served the model.' },
  { name: 'model', description: 'The model\'s name.' },
  { name: 'modelVersion', description: 'The model version or snapshot, or null.' },
  { name: 'observedAt', description: 'When it was observed (ISO 8601, UTC).' },
  { name: 'createdAt', description: 'When it was filed (ISO 8601, UTC). Lines are in this order, oldest first.' },
  { name: 'updatedAt', description: 'When it was last edited.' },
  { name: 'revision', description: 'Its revision number.' },
  { name: 'submittedBy', description: '`{ id, displayName }` of the submitter.' },
  { name: 'tags', description: 'Free tags (array of strings).' },
  { name: 'evidenceLinks', description: 'Evidence URLs (array of strings).' },
  { name: 'rawSha256', description: 'sha256 (hex) of the raw payload as received (the payload itself is not exported).' },
  { name: 'transcriptFormat', description: 'The format the transcript was parsed from (openai-chat, anthropic-messages, menagerie...).' },
  { name: 'metadata', description: 'The provenance: `capture` (form, api, import, proxy, sdk, live-session) and, where known, interface, endpoint, sampling, systemPromptSha256, tools, harness, runtime, quantization and import facts. Named `metadata` so the JSONL importer keeps it (as `provenance.source`).' },
  { name: 'messages', description: 'The normalised transcript: `[{ id, role, parts }]`, roles system, developer, user, assistant, tool; parts text, reasoning, tool_call, tool_result, refusal, image, other (see observations/transcript.schema.ts).' },
  { name: 'codings', description: 'Its codings (withdrawn ones left out), oldest first: `{ id, ethogram: { slug, version, versionId }, behaviour: { key, code, name, category }, coder: { id, displayName, classifierId }, method, status, confidence, span: { messageId, partIndex, start, end, quote } or null (whole observation), modifiers, rationale, createdAt }`.' },
];

/** The filters that were set, as `name=value` pairs (page, page size and sort do not change the set). */
export function describeFilters(filters: ListFilters): string[] {
  const out: string[] = [];
  for (const key of ['q', 'provider', 'model', 'behaviour', 'category', 'tag', 'status', 'from', 'to'] as const) {
    const v = filters[key];
    if (v === undefined) continue;
    out.push(`${key}=${v instanceof Date ? v.toISOString().slice(0, 10) : String(v)}`);
  }
  return out;
}

export interface ReadmeFacts {
  exportedAt: Date;
  filters: string[];
  audience: string;
  observations: number;
  codings: number;
  ethograms: { file: string; slug: string; number: number; status: string }[];
}

const table = (rows: { name: string; description: string }[]) =>
  ['| field | meaning |', '|---|---|', ...rows.map((r) => `| \`${r.name}\` | ${r.description.replace(/\|/g, '\\|')} |`)].join('\n');
const columnTable = <T>(columns: readonly CsvColumn<T>[]) => table(columns.map((c) => ({ name: c.name, description: c.description })));

/** The dataset's README.md: what was exported, when, for whom, and every field of every file. */
export function datasetReadme(f: ReadmeFacts): string {
  const ethogramLines = f.ethograms.length
    ? f.ethograms.map((e) => `- \`${e.file}\`: ${e.slug} version ${e.number} (${e.status})`).join('\n')
    : '- none (no exported coding)';
  return `# Menagerie observations export

Exported ${f.exportedAt.toISOString()} by Menagerie, ${f.audience}.

- Filters: ${f.filters.length ? f.filters.map((x) => `\`${x}\``).join(', ') : 'none (every observation the exporter could read)'}
- Observations: ${f.observations} (a line of observations.jsonl and a row of observations.csv each)
- Codings: ${f.codings} (rows of codings.csv; withdrawn codings are left out, proposed and rejected ones are kept with their status)
- Ethogram versions the codings were made under:
${ethogramLines}

## Files

| file | what |
|---|---|
| \`observations.jsonl\` | one observation per line (UTF-8 JSON), with its transcript, tags, provenance and codings |
| \`observations.csv\` | one row per observation (RFC 4180, UTF-8, CRLF, header row) |
| \`codings.csv\` | one row per coding |
| \`ethograms/<slug>-v<N>.json\` | each ethogram version referenced, as a \`menagerie.ethogram/v1\` document (importable on the ethograms page) |
| \`README.md\` | this file |

observations.jsonl can be imported into a Menagerie instance as it is (import page, \`POST /api/v1/imports\` or
\`menagerie import observations.jsonl\`): title, surprise, transcript, provider, model, model version, observed
time and tags come back, the original id becomes \`provenance.recordId\` and the provenance \`provenance.source\`.
Codings, status, visibility and people do not: they belong to the instance that made them.

In the CSV files, lists in one cell are joined with \`|\`, and a text cell that starts with =, +, -, @, a tab or a
carriage return is prefixed with an apostrophe (') so that spreadsheets do not run it as a formula; the JSONL file
holds the texts unchanged.

## observations.jsonl

${table(jsonlFields)}

## observations.csv

${columnTable(observationColumns)}

## codings.csv

${columnTable(codingColumns)}
`;
}
