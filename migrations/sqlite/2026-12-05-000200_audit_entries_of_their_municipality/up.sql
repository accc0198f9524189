-- Entries written before changes were recorded in the municipality of the record they touch: those
-- of the system administrator (and of tools) had none, so no municipality's admin could read them.
-- They now belong to the municipality of the account, department or municipality they name. An
-- account since moved to another municipality is attributed to the one it is in now: the best the
-- stored data can tell.
UPDATE audit_log SET municipality_id = (SELECT u.municipality_id FROM users u WHERE u.id = audit_log.entity_id)
 WHERE municipality_id IS NULL AND entity_type = 'user';
UPDATE audit_log SET municipality_id = (SELECT d.municipality_id FROM departments d WHERE d.id = audit_log.entity_id)
 WHERE municipality_id IS NULL AND entity_type = 'department';
UPDATE audit_log SET municipality_id = (SELECT m.id FROM municipalities m WHERE m.id = audit_log.entity_id)
 WHERE municipality_id IS NULL AND entity_type = 'municipality';
