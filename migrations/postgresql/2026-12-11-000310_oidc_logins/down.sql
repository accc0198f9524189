DROP TABLE oidc_login_tickets;
DROP TABLE oidc_login_attempts;
