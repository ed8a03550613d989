DROP TABLE locks;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE client_secrets;
DROP TABLE clients;
DROP TABLE service_account_roles;
DROP TABLE service_accounts;
DROP TABLE roles;
