-- The code sets' refresh runs once per statement that writes codings. PL/pgSQL re-planned its one big statement on
-- most calls (custom plans for each array of observations), and the planning was most of its cost: measured on
-- an idle database, 500 single-coding inserts took 488-490 ms with the refresh planned per call and 131-151 ms
-- with one generic plan, against 25 ms with no refresh at all. The generic plan reads the codings of the given
-- observations through their index whatever the array's size; a refresh of every coded observation (the
-- backfill, `menagerie db rebuild-code-sets`) took the same time either way on 4,754 observations.
ALTER FUNCTION observation_code_sets_refresh(uuid[]) SET plan_cache_mode = force_generic_plan;
