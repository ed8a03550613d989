ALTER TABLE approvals DROP COLUMN requested_by_service_account;
