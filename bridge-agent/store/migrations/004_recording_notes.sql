-- What a recording left out: silences longer than the mixer's limit that were skipped, and
-- why a recording stopped before its call ended (a full disk, a write error).
ALTER TABLE calls ADD COLUMN gaps_skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN recording_stopped TEXT;
