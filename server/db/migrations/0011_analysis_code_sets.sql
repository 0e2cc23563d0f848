CREATE TABLE "observation_code_sets" (
	"observation_id" uuid NOT NULL,
	"ethogram_version_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"model_version" text,
	"observed_at" timestamp with time zone NOT NULL,
	"visibility" "visibility" NOT NULL,
	"deleted_at" timestamp with time zone,
	"accepted" smallint[] NOT NULL,
	"shown" smallint[] NOT NULL,
	"accepted_sequence" smallint[] NOT NULL,
	"shown_sequence" smallint[] NOT NULL,
	"accepted_whole" integer NOT NULL,
	"shown_whole" integer NOT NULL,
	"accepted_unplaced" integer NOT NULL,
	"shown_unplaced" integer NOT NULL,
	CONSTRAINT "observation_code_sets_ethogram_version_id_observation_id_pk" PRIMARY KEY("ethogram_version_id","observation_id")
);
--> statement-breakpoint
ALTER TABLE "observation_code_sets" ADD CONSTRAINT "observation_code_sets_observation_id_observations_id_fk" FOREIGN KEY ("observation_id") REFERENCES "public"."observations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "observation_code_sets" ADD CONSTRAINT "observation_code_sets_ethogram_version_id_ethogram_versions_id_fk" FOREIGN KEY ("ethogram_version_id") REFERENCES "public"."ethogram_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "observation_code_sets_observation_idx" ON "observation_code_sets" USING btree ("observation_id");--> statement-breakpoint
-- Recomputes the observation_code_sets rows of the given observations from their codings (see
-- analyses/analysis.schema.ts). Called by the triggers below, inside the transaction that wrote.
--
-- Locking: two transactions coding one observation at once must not each write a row computed without the
-- other's coding. So a refresh first takes a transaction-long advisory lock on each observation (in a fixed
-- order), and only then reads, in a statement of its own, which under READ COMMITTED sees everything committed by
-- then: the second writer waits for the first to commit and then counts both. A statement touching more than 64
-- observations (an import, a classifier run) takes one exclusive lock instead, which every refresh takes shared,
-- so it never fills the lock table.
CREATE FUNCTION observation_code_sets_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  IF cardinality(ids) > 64 THEN
    PERFORM pg_advisory_xact_lock(5261947361045012011);
  ELSE
    PERFORM pg_advisory_xact_lock_shared(5261947361045012011);
    PERFORM pg_advisory_xact_lock(1225, k) FROM (SELECT DISTINCT hashtext(id::text) AS k FROM unnest(ids) id ORDER BY 1) s;
  END IF;
  DELETE FROM observation_code_sets WHERE observation_id IN (SELECT unnest(ids));
  INSERT INTO observation_code_sets (observation_id, ethogram_version_id, provider, model, model_version, observed_at, visibility, deleted_at,
    accepted, shown, accepted_sequence, shown_sequence, accepted_whole, shown_whole, accepted_unplaced, shown_unplaced)
  WITH touched AS (SELECT DISTINCT id FROM unnest(ids) id),
  coded AS MATERIALIZED (
    SELECT c.observation_id, c.ethogram_version_id, c.behaviour_id, c.status = 'accepted' AS accepted, c.message_id IS NULL AS whole,
      coalesce(c.part_index, 0) AS part, coalesce(c.char_start, 0) AS start,
      -- Message order: ids of the form mN (every parser and importer hands them out in transcript order) are N;
      -- any other id is looked up in the transcript; null when the message is gone.
      CASE WHEN c.message_id IS NULL THEN NULL
           WHEN c.message_id ~ '^m[1-9][0-9]{0,5}$' THEN substr(c.message_id, 2)::int
           ELSE (SELECT e.ord::int FROM observations t, jsonb_array_elements(t.transcript->'messages') WITH ORDINALITY e(m, ord)
                 WHERE t.id = c.observation_id AND e.m->>'id' = c.message_id LIMIT 1)
      END AS message_order
    FROM touched JOIN codings c ON c.observation_id = touched.id
    WHERE c.withdrawn_at IS NULL AND c.status IN ('accepted', 'proposed')),
  numbered AS (
    SELECT b.id, (row_number() OVER (PARTITION BY b.version_id ORDER BY b.position, b.code) - 1)::smallint AS i
    FROM behaviours b WHERE b.version_id IN (SELECT DISTINCT ethogram_version_id FROM coded)),
  indexed AS MATERIALIZED (SELECT coded.*, numbered.i FROM coded JOIN numbered ON numbered.id = coded.behaviour_id),
  sets AS (
    SELECT observation_id, ethogram_version_id,
      coalesce(array_agg(DISTINCT i ORDER BY i) FILTER (WHERE accepted), '{}') AS accepted,
      array_agg(DISTINCT i ORDER BY i) AS shown,
      (count(*) FILTER (WHERE accepted AND whole))::int AS accepted_whole,
      (count(*) FILTER (WHERE whole))::int AS shown_whole,
      (count(*) FILTER (WHERE accepted AND NOT whole AND message_order IS NULL))::int AS accepted_unplaced,
      (count(*) FILTER (WHERE NOT whole AND message_order IS NULL))::int AS shown_unplaced
    FROM indexed GROUP BY observation_id, ethogram_version_id),
  -- One entry per distinct (behaviour, position): two coders coding the same thing at one place count once.
  accepted_placed AS (SELECT DISTINCT observation_id, ethogram_version_id, i, message_order, part, start FROM indexed WHERE accepted AND message_order IS NOT NULL),
  shown_placed AS (SELECT DISTINCT observation_id, ethogram_version_id, i, message_order, part, start FROM indexed WHERE message_order IS NOT NULL),
  accepted_sequences AS (SELECT observation_id, ethogram_version_id, array_agg(i ORDER BY message_order, part, start, i) AS s FROM accepted_placed GROUP BY 1, 2),
  shown_sequences AS (SELECT observation_id, ethogram_version_id, array_agg(i ORDER BY message_order, part, start, i) AS s FROM shown_placed GROUP BY 1, 2)
  SELECT s.observation_id, s.ethogram_version_id, o.provider, o.model, o.model_version, o.observed_at, o.visibility, o.deleted_at,
    s.accepted, s.shown, coalesce(a.s, '{}'), coalesce(p.s, '{}'), s.accepted_whole, s.shown_whole, s.accepted_unplaced, s.shown_unplaced
  FROM sets s JOIN observations o ON o.id = s.observation_id
  LEFT JOIN accepted_sequences a ON a.observation_id = s.observation_id AND a.ethogram_version_id = s.ethogram_version_id
  LEFT JOIN shown_sequences p ON p.observation_id = s.observation_id AND p.ethogram_version_id = s.ethogram_version_id;
END
$$;
--> statement-breakpoint
CREATE FUNCTION observation_code_sets_after_codings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM observation_code_sets_refresh(ARRAY(SELECT DISTINCT observation_id FROM new_codings));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM observation_code_sets_refresh(ARRAY(SELECT observation_id FROM new_codings UNION SELECT observation_id FROM old_codings));
  ELSE
    PERFORM observation_code_sets_refresh(ARRAY(SELECT DISTINCT observation_id FROM old_codings));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER codings_code_sets_insert AFTER INSERT ON codings REFERENCING NEW TABLE AS new_codings
  FOR EACH STATEMENT EXECUTE FUNCTION observation_code_sets_after_codings();
--> statement-breakpoint
CREATE TRIGGER codings_code_sets_update AFTER UPDATE ON codings REFERENCING OLD TABLE AS old_codings NEW TABLE AS new_codings
  FOR EACH STATEMENT EXECUTE FUNCTION observation_code_sets_after_codings();
--> statement-breakpoint
CREATE TRIGGER codings_code_sets_delete AFTER DELETE ON codings REFERENCING OLD TABLE AS old_codings
  FOR EACH STATEMENT EXECUTE FUNCTION observation_code_sets_after_codings();
--> statement-breakpoint
CREATE FUNCTION observation_code_sets_after_observation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM observation_code_sets_refresh(ARRAY[NEW.id]);
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Only when a copied column (or the transcript, which orders the sequences) really changed: the search indexer's
-- updates, and every other, never fire it.
CREATE TRIGGER observations_code_sets_update AFTER UPDATE OF provider, model, model_version, observed_at, visibility, deleted_at, transcript ON observations
  FOR EACH ROW WHEN (OLD.provider IS DISTINCT FROM NEW.provider OR OLD.model IS DISTINCT FROM NEW.model OR OLD.model_version IS DISTINCT FROM NEW.model_version
    OR OLD.observed_at IS DISTINCT FROM NEW.observed_at OR OLD.visibility IS DISTINCT FROM NEW.visibility OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
    OR OLD.transcript IS DISTINCT FROM NEW.transcript)
  EXECUTE FUNCTION observation_code_sets_after_observation();
--> statement-breakpoint
SELECT observation_code_sets_refresh(ARRAY(SELECT DISTINCT observation_id FROM codings));
