-- What showed that a call was answered: its 2xx (`200-ok`), or, when that was not seen, an
-- ACK only a 2xx gets (`ack-for-2xx`), RTP both ways (`media-both-ways`) or a BYE after an
-- ACK (`bye-after-ack`). NULL for unanswered calls and for calls logged before this column.
ALTER TABLE calls ADD COLUMN answered_by TEXT;
