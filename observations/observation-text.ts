import { sql, type SQL } from 'drizzle-orm';
import { sha256Hex } from '../core/sha256.ts';
import { statementSql } from '../core/statement.ts';
import { partText, type Transcript } from './transcript.schema.ts';

/**
 * The transcript text that full-text search indexes is capped: PostgreSQL refuses tsvectors over 1 MB and
 * stops counting positions at 16,383, so text past this point would only cost time without being findable.
 */
export const SEARCH_TEXT_CAP = 200_000;

/** Every addressable text of the transcript (text, reasoning, refusals, tool calls and results), one per line, capped. */
export function transcriptSearchText(transcript: Transcript, cap = SEARCH_TEXT_CAP): string {
  let out = '';
  for (const message of transcript.messages) {
    for (const part of message.parts) {
      const text = partText(part);
      if (!text) continue;
      out += (out ? '\n' : '') + text;
      if (out.length >= cap) return out.slice(0, cap);
    }
  }
  return out;
}

/**
 * `transcriptSearchText` computed by PostgreSQL from a jsonb transcript column: the same texts in the same order
 * (text, reasoning, refusal, tool results, tool-call arguments), one per line, capped at SEARCH_TEXT_CAP
 * characters. Used where the transcript is already in the database, so it need not travel to the server and back.
 */
export function transcriptSearchTextSql(transcript: SQL): SQL {
  return sql`left(coalesce((
    SELECT string_agg(CASE WHEN p.part->>'type' = 'tool_call' THEN p.part->>'arguments' ELSE p.part->>'text' END, E'\n' ORDER BY m.i, p.j)
    FROM jsonb_array_elements(${transcript}->'messages') WITH ORDINALITY AS m(message, i),
         jsonb_array_elements(m.message->'parts') WITH ORDINALITY AS p(part, j)
    WHERE p.part->>'type' IN ('text', 'reasoning', 'refusal', 'tool_result', 'tool_call')
      AND coalesce(p.part->>(CASE WHEN p.part->>'type' = 'tool_call' THEN 'arguments' ELSE 'text' END), '') <> ''
  ), ''), ${SEARCH_TEXT_CAP})`;
}

/**
 * The sha256 of the system and developer messages' text, so observations made under the same system prompt can
 * be grouped without storing the prompt twice. Undefined when the transcript has no such message.
 */
export function systemPromptSha256(transcript: Transcript): string | undefined {
  const texts: string[] = [];
  for (const message of transcript.messages) {
    if (message.role !== 'system' && message.role !== 'developer') continue;
    for (const part of message.parts) {
      const text = partText(part);
      if (text) texts.push(text);
    }
  }
  return texts.length > 0 ? sha256Hex(texts.join('\n')) : undefined;
}

/**
 * The search vector of the headline fields alone (title A, what was surprising B): cheap, written at ingestion.
 * As statement text, given the placeholders that hold the title and what was surprising (core/statement.ts).
 */
export function headlineVectorText(titlePlaceholder: string, surprisePlaceholder: string): string {
  return `setweight(to_tsvector('english', ${titlePlaceholder}), 'A') || setweight(to_tsvector('english', ${surprisePlaceholder}), 'B')`;
}

/** The headline search vector as Drizzle `sql`, from the same text. */
export function headlineVectorSql(title: string, surprise: string): SQL {
  return statementSql(headlineVectorText('$1', '$2'), [title, surprise]);
}

/** The weighted search vector, computed by PostgreSQL: title A, what was surprising B, transcript text C. */
export function searchVectorSql(title: string, surprise: string, transcriptText: string): SQL {
  return sql`setweight(to_tsvector('english', ${title}), 'A') || setweight(to_tsvector('english', ${surprise}), 'B') || setweight(to_tsvector('english', ${transcriptText}), 'C')`;
}

/** A Postgres `text[]` literal built from parameters (Drizzle would otherwise expand an array into a list). */
export function textArraySql(values: readonly string[]): SQL {
  if (values.length === 0) return sql`'{}'::text[]`;
  return sql`ARRAY[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::text[]`;
}

/** Trimmed, lower-cased, de-duplicated tags in first-seen order. */
export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase().replace(/\s+/g, ' ')).filter(Boolean))];
}
