-- Exact-number filters (`number-exact`): what blocking "this caller" makes, so that a caller
-- numbered `*` blocks only `*`. SQLite cannot change a CHECK constraint in place: the table is
-- rebuilt with the same rows, ids and positions.
CREATE TABLE filters_new (
    id       INTEGER PRIMARY KEY,
    position INTEGER NOT NULL,
    pattern  TEXT NOT NULL,
    field    TEXT NOT NULL CHECK (field IN ('number', 'number-exact', 'name')),
    action   TEXT NOT NULL CHECK (action IN ('allow', 'block', 'record', 'no-record')),
    created  TEXT NOT NULL
);
INSERT INTO filters_new (id, position, pattern, field, action, created)
    SELECT id, position, pattern, field, action, created FROM filters;
DROP TABLE filters;
ALTER TABLE filters_new RENAME TO filters;
CREATE INDEX filters_position ON filters (position);
