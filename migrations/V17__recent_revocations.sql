-- The gateway keeps the revoked sessions in Redis, which keeps nothing on
-- disk. When it finds Redis emptied (no warm marker) it rebuilds the cache
-- from here: the sessions revoked recently enough that one of their access
-- tokens may still be presented, with how long ago each was revoked. Every
-- role whose component is behind the gateway's token check may run it, and
-- it shows nothing but session ids and ages.
CREATE INDEX sessions_revoked_at ON devices.sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE FUNCTION devices.recent_revocations(p_window_seconds bigint)
RETURNS TABLE (session_id uuid, age_seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, devices AS $$
    SELECT s.id, floor(extract(epoch FROM now() - s.revoked_at))::bigint
    FROM devices.sessions s
    WHERE s.revoked_at > now() - make_interval(secs => p_window_seconds)
$$;

REVOKE ALL ON FUNCTION devices.recent_revocations(bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA devices TO vottery_users;
GRANT EXECUTE ON FUNCTION devices.recent_revocations(bigint) TO vottery_users, vottery_devices;
