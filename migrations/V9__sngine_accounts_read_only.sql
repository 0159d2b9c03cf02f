-- Sngine's table is Sngine's: the users service only reads it. The view of
-- V2 was created after V1's default privileges on schema `users`, so it was
-- also granted INSERT, UPDATE and DELETE, and being a simple view it would
-- have passed those writes on to public.users with the migration owner's
-- rights. Only SELECT stays.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON users.sngine_accounts FROM vottery_users;
