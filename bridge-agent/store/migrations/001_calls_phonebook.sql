-- The call log and the phonebook.
CREATE TABLE calls (
    id               INTEGER PRIMARY KEY,
    call_id          TEXT NOT NULL,
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    number           TEXT,
    name             TEXT,
    anonymous        INTEGER NOT NULL DEFAULT 0,
    caller_id_source TEXT NOT NULL,
    caller_id_header TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    answered_at      TEXT,
    ended_at         TEXT,
    disposition      TEXT,
    recording        TEXT,
    raw_rtp          TEXT,
    codec            TEXT,
    phone_address    TEXT NOT NULL,
    remote_address   TEXT NOT NULL,
    quality          TEXT
);
CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_number ON calls (number);

CREATE TABLE phonebook (
    number       TEXT PRIMARY KEY,
    network_name TEXT,
    user_name    TEXT,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0
);
