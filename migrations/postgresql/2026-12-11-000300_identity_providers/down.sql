DROP TABLE external_identities;
DROP TABLE identity_providers;
