-- The admin plane's named lock (gatepass_store::Lock::Admin): every admin write takes it
-- first, so rules checked by reading and then writing (the last admin, four-eyes decisions)
-- hold across nodes on PostgreSQL. Present from the start, so no two first takers race to
-- insert it.
INSERT INTO locks (name) VALUES ('admin');
