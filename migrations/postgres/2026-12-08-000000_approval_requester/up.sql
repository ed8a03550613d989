-- Four-eyes: the requester's service account as it was when the request was filed. The
-- decider is judged against the identity that asked (docs/design.md §10), not against the
-- live client row, which may be gone or changed by the time the request is decided.
ALTER TABLE approvals ADD COLUMN requested_by_service_account TEXT;
UPDATE approvals SET requested_by_service_account =
    (SELECT service_account_id FROM clients WHERE clients.client_id = approvals.requested_by);
