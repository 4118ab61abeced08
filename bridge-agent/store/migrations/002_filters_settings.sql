-- Filters (DESIGN rule 4), settings the console may change, and why a call was blocked.
CREATE TABLE filters (
    id       INTEGER PRIMARY KEY,
    position INTEGER NOT NULL,
    pattern  TEXT NOT NULL,
    field    TEXT NOT NULL CHECK (field IN ('number', 'name')),
    action   TEXT NOT NULL CHECK (action IN ('allow', 'block', 'record', 'no-record')),
    created  TEXT NOT NULL
);
CREATE INDEX filters_position ON filters (position);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The filter that blocked a call (its id, and what it said, kept after it is deleted).
ALTER TABLE calls ADD COLUMN blocked_by_filter INTEGER;
ALTER TABLE calls ADD COLUMN blocked_by TEXT;
