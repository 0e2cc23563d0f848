-- Large text and jsonb values (raw payloads, transcripts, captured bodies) are compressed when stored. lz4
-- compresses several times faster than PostgreSQL's default pglz (measured here: ~0.3 ms less CPU per 12 KB
-- observation, about a quarter of a core at ingestion rates), at a slightly larger size. Servers built without
-- lz4 (and PGlite) keep pglz: the statement checks first, so the migration runs everywhere.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE observations ALTER COLUMN raw_payload SET COMPRESSION lz4;
    ALTER TABLE observations ALTER COLUMN transcript SET COMPRESSION lz4;
    ALTER TABLE captures ALTER COLUMN request_body SET COMPRESSION lz4;
    ALTER TABLE captures ALTER COLUMN response_body SET COMPRESSION lz4;
    ALTER TABLE captures ALTER COLUMN rebuilt SET COMPRESSION lz4;
    ALTER TABLE captures ALTER COLUMN transcript SET COMPRESSION lz4;
    ALTER TABLE revisions ALTER COLUMN snapshot SET COMPRESSION lz4;
  END IF;
END $$;
