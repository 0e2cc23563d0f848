import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';

const starterPath = new URL('../../ethograms/starter/llm-starter.ethogram.json', import.meta.url);

interface StarterDoc {
  slug: string;
  name: string;
  description: string;
  version: { number: number; notes?: string };
  categories: unknown[];
  modifierSets: unknown[];
  exclusiveGroups: unknown[];
  behaviours: Array<Record<string, unknown> & { code: string }>;
}

/**
 * Makes sure the test database has a published ethogram to code with: the starter one if it is already loaded
 * (by prepareInstance), else the starter document written straight into the tables. Also adds a draft version
 * (for "drafts cannot be coded with" tests). Returns the ids tests need.
 */
export async function ensureStarterEthogram(db: Db): Promise<{ versionId: string; draftVersionId: string; slug: string }> {
  let published = await defaultPublishedVersion(db);
  if (!published) {
    const doc = JSON.parse(readFileSync(starterPath, 'utf8')) as StarterDoc;
    const [ethogram] = rowsOf<{ id: string }>(
      await db.execute(sql`INSERT INTO ethograms (slug, name, description) VALUES (${doc.slug}, ${doc.name}, ${doc.description})
        ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id`),
    );
    const [version] = rowsOf<{ id: string }>(
      await db.execute(sql`INSERT INTO ethogram_versions (ethogram_id, number, status, notes, categories, modifier_sets, exclusive_groups, published_at)
        VALUES (${ethogram!.id}::uuid, ${doc.version.number}, 'published', ${doc.version.notes ?? ''}, ${JSON.stringify(doc.categories)}::jsonb,
          ${JSON.stringify(doc.modifierSets)}::jsonb, ${JSON.stringify(doc.exclusiveGroups)}::jsonb, now()) RETURNING id`),
    );
    let position = 0;
    for (const b of doc.behaviours) {
      await db.execute(sql`INSERT INTO behaviours (version_id, key, code, name, category, kind, definition, inclusion, exclusion, examples,
          modifier_sets, hotkey, colour, mappings, status, replaced_by, position)
        VALUES (${version!.id}::uuid, ${b.key as string}, ${b.code}, ${b.name as string}, ${b.category as string}, ${b.kind as string}::behaviour_kind,
          ${b.definition as string}, ${JSON.stringify(b.inclusion)}::jsonb, ${JSON.stringify(b.exclusion)}::jsonb, ${JSON.stringify(b.examples)}::jsonb,
          ${JSON.stringify(b.modifierSets ?? [])}::jsonb, ${(b.hotkey as string | null) ?? null}, ${b.colour as string},
          ${JSON.stringify(b.mappings ?? [])}::jsonb, ${(b.status as string) ?? 'active'}, ${(b.replacedBy as string | null) ?? null}, ${position++})`);
    }
    published = await defaultPublishedVersion(db);
  }
  const versionId = published!.id;
  const existingDraft = rowsOf<{ id: string }>(
    await db.execute(sql`SELECT id FROM ethogram_versions WHERE ethogram_id = ${published!.ethogramId}::uuid AND status = 'draft' LIMIT 1`),
  )[0];
  let draftVersionId = existingDraft?.id;
  if (!draftVersionId) {
    const [draft] = rowsOf<{ id: string }>(
      await db.execute(sql`INSERT INTO ethogram_versions (ethogram_id, number, status, modifier_sets)
        SELECT ethogram_id, (SELECT max(number) + 1 FROM ethogram_versions WHERE ethogram_id = ${published!.ethogramId}::uuid), 'draft', modifier_sets
        FROM ethogram_versions WHERE id = ${versionId}::uuid RETURNING id`),
    );
    draftVersionId = draft!.id;
    await db.execute(sql`INSERT INTO behaviours (version_id, key, code, name, category, kind, definition, inclusion, exclusion, examples, modifier_sets, colour, position)
      SELECT ${draftVersionId}::uuid, key, code, name, category, kind, definition, inclusion, exclusion, examples, modifier_sets, colour, position
      FROM behaviours WHERE version_id = ${versionId}::uuid`);
  }
  return { versionId, draftVersionId, slug: published!.slug };
}

/** A complete behaviour of category `acts` for crafted ethogram documents; `overrides` change any field. */
export function actBehaviour(code: string, overrides: Record<string, unknown> = {}) {
  return {
    key: `acts.${code.toLowerCase()}`,
    code,
    name: `Behaviour ${code}`,
    category: 'acts',
    kind: 'event',
    definition: `The assistant does what ${code} names, observably.`,
    inclusion: ['Visible in the transcript.'],
    exclusion: [],
    examples: { positive: ['Assistant: example.'], negative: [] },
    colour: '#336699',
    ...overrides,
  };
}
