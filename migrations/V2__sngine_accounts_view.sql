-- Sngine's own `users` table (public.users, written by Sngine, never by us)
-- is read through this view: the one place that knows Sngine's column names.
-- Only the users service may read it, and only these columns.
CREATE VIEW users.sngine_accounts AS
SELECT
    u.user_id::bigint                         AS sngine_user_id,
    u.user_name                               AS username,
    u.user_email                              AS email,
    u.user_phone                              AS phone,
    u.user_firstname                          AS first_name,
    u.user_lastname                           AS last_name,
    (u.user_activated = '1')                  AS activated,
    (u.user_banned = '1')                     AS banned,
    u.user_registered                         AS registered_at
FROM public.users AS u;

GRANT SELECT ON users.sngine_accounts TO vottery_users;
