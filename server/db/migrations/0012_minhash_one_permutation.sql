-- Near-duplicate fingerprints changed scheme: one permutation hashing with densification replaces 64 independent
-- hash functions (observations/similar/minhash.ts), about five times less CPU per transcript. Old and new
-- signatures are not comparable, so every stored one is cleared: the search indexer fingerprints them again in
-- the background, oldest first (the partial index on `minhash IS NULL` lists them), and until it has, an
-- observation is simply not offered as a near duplicate.
UPDATE observations SET minhash = NULL, minhash_bands = NULL WHERE minhash IS NOT NULL;
