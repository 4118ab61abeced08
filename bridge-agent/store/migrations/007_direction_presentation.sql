-- How each call's direction was decided (`bridge-port`, `configured`, `register`,
-- `via-count`, `request-uri`, `earlier-call`, `assumed`; NULL for calls logged before it was
-- kept), and how the other party's number was presented: `number`, `withheld` (the caller hid
-- it; `anonymous` stays 1 for exactly these) or `unknown` (the network did not say). Calls
-- logged before this were either anonymous (withheld, as they were then called) or numbered.
ALTER TABLE calls ADD COLUMN direction_source TEXT;
ALTER TABLE calls ADD COLUMN presentation TEXT NOT NULL DEFAULT 'number';
UPDATE calls SET presentation = 'withheld' WHERE anonymous;
