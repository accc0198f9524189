-- E-mail reminders: an optional address per account, and the log of every message claimed for
-- sending. The UNIQUE idempotency key is the claim: two passes (or processes) never send one
-- message twice. Twin of migrations/postgresql/2026-12-11-000200_reminders.
ALTER TABLE users ADD COLUMN email TEXT;

CREATE TABLE sent_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    kind TEXT NOT NULL CHECK (kind IN ('deadline_approaching', 'deadline_passed', 'actual_returned', 'daily_digest')),
    recipient_user_id INTEGER NOT NULL REFERENCES users(id),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX sent_messages_by_municipality ON sent_messages (municipality_id, id);
