-- audit.member_events matched every row whose subject is the member's id,
-- but some subjects are chosen by clients (a device id may look like a user
-- id): a member could make rows about their own device show in another
-- member's history. A member's id counts as the subject only for the
-- actions whose subject is a member.
CREATE OR REPLACE FUNCTION audit.member_events(p_member uuid, p_at bigint, p_id bigint, p_limit integer)
RETURNS TABLE (id bigint, at_us bigint, action text, at_text text, outcome text, detail jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
    SELECT e.id, (extract(epoch FROM e.at) * 1000000)::bigint, e.action,
           to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), e.outcome, e.detail
    FROM audit.events e
    WHERE (e.actor IN ('member:' || p_member::text, 'user:' || p_member::text, p_member::text)
           OR (e.subject = p_member::text
               AND e.action IN ('profile.updated', 'role.granted', 'role.revoked',
                                'demographics.consented', 'demographics.withdrawn'))
           OR e.subject IN (SELECT s.id::text FROM devices.sessions s WHERE s.user_id = p_member))
      AND (p_at IS NULL
           OR (extract(epoch FROM e.at) * 1000000)::bigint < p_at
           OR ((extract(epoch FROM e.at) * 1000000)::bigint = p_at AND e.id < p_id))
    ORDER BY e.at DESC, e.id DESC
    LIMIT p_limit
$$;
