-- The administrators' directory of members (GET /api/users): ids, the
-- Sngine account and dates, looked up by id or by a contact's blind index.
-- Never a contact, sealed or not.
CREATE VIEW users.directory AS
SELECT
    a.id,
    a.email_index,
    a.phone_index,
    a.id::text                                                                   AS user_id,
    a.sngine_user_id,
    s.username,
    to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')       AS created_at,
    to_char(a.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')       AS updated_at
FROM users.accounts AS a
LEFT JOIN users.sngine_accounts AS s ON s.sngine_user_id = a.sngine_user_id;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON users.directory FROM vottery_users;
GRANT SELECT ON users.directory TO vottery_users;
