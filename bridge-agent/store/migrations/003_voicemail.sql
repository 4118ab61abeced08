-- What the provider said was waiting in voicemail, each time it changed.
CREATE TABLE voicemail (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    waiting INTEGER NOT NULL,
    new     INTEGER NOT NULL,
    old     INTEGER NOT NULL
);
