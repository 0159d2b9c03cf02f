-- The security events of one member, for their own history
-- (GET /api/users/activity): the audit rows whose actor or subject names
-- the member (in any of the forms the services write: `member:<id>`,
-- `user:<id>`, the bare id), and those of the member's sessions (subject:
-- the session id). The services' roles can only append to the log; this is
-- the one read the users service gets, and only for one member at a time,
-- newest first, after a position (microseconds, id).
CREATE INDEX events_by_actor ON audit.events (actor, id);
CREATE INDEX events_by_subject ON audit.events (subject, id);

CREATE FUNCTION audit.member_events(p_member uuid, p_at bigint, p_id bigint, p_limit integer)
RETURNS TABLE (id bigint, at_us bigint, action text, at_text text, outcome text, detail jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
    SELECT e.id, (extract(epoch FROM e.at) * 1000000)::bigint, e.action,
           to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), e.outcome, e.detail
    FROM audit.events e
    WHERE (e.actor IN ('member:' || p_member::text, 'user:' || p_member::text, p_member::text)
           OR e.subject = p_member::text
           OR e.subject IN (SELECT s.id::text FROM devices.sessions s WHERE s.user_id = p_member))
      AND (p_at IS NULL
           OR (extract(epoch FROM e.at) * 1000000)::bigint < p_at
           OR ((extract(epoch FROM e.at) * 1000000)::bigint = p_at AND e.id < p_id))
    ORDER BY e.at DESC, e.id DESC
    LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION audit.member_events(uuid, bigint, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.member_events(uuid, bigint, bigint, integer) TO vottery_users;
