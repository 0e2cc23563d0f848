-- search_snippet_source (below): the text a search result's snippet is made from when the match is in the transcript
-- (observations/observation.queries.ts, headlineOf). ts_headline parses and stems every word it is given: about 0.6
-- ms for the first 5,000 characters of a transcript on a slow core, which over a page of twenty results was most of
-- a search's time in PostgreSQL. Its fragments are taken around the mentions of the searched words anyway, so it is
-- given only the windows around each word's first mention: `lead_chars` characters before it to `tail_chars` after
-- it, overlapping windows merged, cut to whole words and joined by " … " (a span satisfying the query, both words of
-- `a b`, is then in the text it gets). A window or two is a fifth to a tenth of the text, and ts_headline takes
-- three to six times less time on it (measured over 480 matches of eight searches: 0.09-0.17 ms against 0.57 ms
-- each).
--
-- A mention is where a query lexeme occurs in the text, ignoring case. Lexemes are stems ('surpris', 'happi'):
-- English stems begin the words they stem but for a final y or e turned into i or dropped, so a final i or e is
-- trimmed first (from stems that stay three letters long). A mention inside a longer word may be found instead:
-- the snippet then shows fewer highlights, never wrong ones (ts_headline marks only true matches). Negated words
-- are skipped. The whole body is returned for a phrase (its words must be adjacent, which first mentions need not
-- be) and when no mention is found.

-- The characters of `body` from `from_char` up to (not including) `stop_char`, less the part of a word the window
-- cuts at either end.
CREATE FUNCTION search_snippet_piece(body text, from_char int, stop_char int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN substr(body, stop_char, 1) ~ '\S' THEN reverse(regexp_replace(reverse(p), '^\S*\s+', '')) ELSE p END
  FROM (SELECT CASE WHEN from_char > 1 AND substr(body, from_char - 1, 1) ~ '\S' THEN regexp_replace(w, '^\S*\s+', '') ELSE w END AS p
        FROM (SELECT substr(body, from_char, stop_char - from_char) AS w) cut) s
$$;
--> statement-breakpoint
CREATE FUNCTION search_snippet_source(body text, query tsquery, lead_chars int, tail_chars int) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  query_text text := query::text;
  lowered text;
  stem text;
  mention int;
  positions int[] := '{}';
  window_start int;
  window_end int;
  piece_start int;
  piece_end int;
  pieces text[] := '{}';
BEGIN
  IF body IS NULL OR query_text ~ '<[0-9-]+>' THEN
    RETURN body;
  END IF;
  lowered := lower(body);
  FOR stem IN SELECT m[2] FROM regexp_matches(query_text, '(!?)''([^'']+)''', 'g') AS m WHERE m[1] = '' LOOP
    IF length(rtrim(stem, 'ie')) >= 3 THEN
      stem := rtrim(stem, 'ie');
    END IF;
    mention := strpos(lowered, stem);
    IF mention > 0 THEN
      positions := positions || mention;
    END IF;
  END LOOP;
  IF cardinality(positions) = 0 THEN
    RETURN body;
  END IF;
  FOREACH mention IN ARRAY ARRAY(SELECT DISTINCT p FROM unnest(positions) AS p ORDER BY p) LOOP
    window_start := greatest(1, mention - lead_chars);
    window_end := mention + tail_chars;
    IF piece_end IS NOT NULL AND window_start <= piece_end THEN
      piece_end := greatest(piece_end, window_end);
    ELSE
      IF piece_end IS NOT NULL THEN
        pieces := pieces || search_snippet_piece(body, piece_start, piece_end);
      END IF;
      piece_start := window_start;
      piece_end := window_end;
    END IF;
  END LOOP;
  pieces := pieces || search_snippet_piece(body, piece_start, piece_end);
  RETURN array_to_string(pieces, ' … ');
END
$$;
