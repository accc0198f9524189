DROP TABLE sent_messages;
ALTER TABLE users DROP COLUMN email;
