import { sql } from 'drizzle-orm';
import { bigint, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../../accounts/account.schema.ts';

/** `ready`: checked and unchanged; `missing`: the folder (or a file in it) is gone; `changed`: its weights' sha256 is not the registered one; `invalid`: it no longer passes the checks. */
export const modelStatuses = ['ready', 'missing', 'changed', 'invalid'] as const;
export type ModelStatus = (typeof modelStatuses)[number];

/** What the registry keeps of a folder's config (the engine's ModelConfig, the parts people compare models by). */
export interface ModelShape {
  family: string;
  modelType: string;
  nLayers: number;
  dModel: number;
  nHeads: number;
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  dVocab: number;
  nCtx: number;
  dtypes: string[];
  weightFiles: string[];
  tokenizerVocabSize: number;
}

/**
 * A model folder the instance knows (Hugging Face layout on this machine's disk; nothing is downloaded), as an admin
 * registered it: checked on registration (config, weights readable and consistent with it, tokenizer fitting the
 * vocabulary) and pinned by its weights' sha256. Experiments run on a registered model only; a run refuses a folder
 * whose weights no longer hash to `weightsSha256`, so every result says exactly which weights made it.
 */
export const models = pgTable(
  'models',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    /** What people call it ("GPT-2 small"); unique. */
    name: text('name').notNull(),
    /** The folder's absolute path on the machines that run experiments. */
    path: text('path').notNull(),
    /** config.json's architectures[0] (GPT2LMHeadModel), else its model_type. */
    architecture: text('architecture').notNull(),
    parameters: bigint('parameters', { mode: 'number' }).notNull(),
    weightBytes: bigint('weight_bytes', { mode: 'number' }).notNull(),
    weightsSha256: text('weights_sha256').notNull(),
    shape: jsonb('shape').$type<ModelShape>().notNull(),
    status: text('status').$type<ModelStatus>().notNull().default('ready'),
    /** Why the last check found it not ready (shown on the models page and on refused runs). */
    statusReason: text('status_reason'),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull(),
    registeredBy: uuid('registered_by').notNull().references(() => users.id),
    registeredAt: timestamp('registered_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('models_name_idx').on(sql`lower(${t.name})`), uniqueIndex('models_path_idx').on(t.path)],
);
