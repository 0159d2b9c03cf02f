-- Two fixes to the streams of V18. A transaction's appends stay on the
-- stream its first append took: the stream is remembered for the
-- transaction (`vottery.audit_stream`, local to it) and tried first, where
-- V18 started every append's search again from the backend's stream, which
-- another transaction may have taken and freed in between. And the heads a
-- checkpoint reads cost one index probe per stream instead of a scan of
-- the log.
CREATE INDEX events_before_streams ON audit.events (id) WHERE stream IS NULL;

CREATE OR REPLACE FUNCTION audit.append(p_actor text, p_action text, p_subject text, p_outcome text, p_detail jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
DECLARE
    v_streams constant integer := 32;
    v_held integer := nullif(current_setting('vottery.audit_stream', true), '')::integer;
    v_first integer := coalesce(v_held, pg_backend_pid() % v_streams);
    v_stream integer;
    v_seq bigint;
    v_prev bytea;
    v_id bigint := nextval('audit.event_ids');
    v_at timestamptz := clock_timestamp();
    v_service text := regexp_replace(session_user, '^vottery_', '');
    v_detail jsonb := coalesce(p_detail, '{}'::jsonb);
BEGIN
    IF v_held IS NOT NULL THEN
        -- This transaction holds it already (advisory locks are re-entrant).
        v_stream := v_held;
        PERFORM pg_advisory_xact_lock(1635087476, v_stream);
    ELSE
        FOR i IN 0 .. v_streams - 1 LOOP
            v_stream := (v_first + i) % v_streams;
            EXIT WHEN pg_try_advisory_xact_lock(1635087476, v_stream);
            v_stream := NULL;
        END LOOP;
        IF v_stream IS NULL THEN
            -- Every stream is held by a transaction still open: wait for one.
            v_stream := v_first;
            PERFORM pg_advisory_xact_lock(1635087476, v_stream);
        END IF;
        PERFORM set_config('vottery.audit_stream', v_stream::text, true);
    END IF;
    SELECT e.seq, e.hash INTO v_seq, v_prev FROM audit.events e
    WHERE e.stream = v_stream ORDER BY e.seq DESC LIMIT 1;
    v_seq := coalesce(v_seq + 1, 1);
    v_prev := coalesce(v_prev, audit.stream_genesis(v_stream));
    INSERT INTO audit.events (id, at, service, actor, action, subject, outcome, detail, prev_hash, hash, stream, seq)
    VALUES (v_id, v_at, v_service, p_actor, p_action, p_subject, p_outcome, v_detail, v_prev,
            audit.stream_event_hash(v_prev, v_stream, v_seq, v_id, v_at, v_service, p_actor, p_action, p_subject,
                                    p_outcome, v_detail),
            v_stream, v_seq);
    RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION audit.heads() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
    SELECT jsonb_build_object(
        'legacy', (SELECT jsonb_build_object('id', e.id, 'hash', encode(e.hash, 'hex'))
                   FROM audit.events e WHERE e.stream IS NULL ORDER BY e.id DESC LIMIT 1),
        'streams', coalesce((SELECT jsonb_agg(jsonb_build_object('stream', h.stream, 'seq', h.seq, 'hash', encode(h.hash, 'hex'))
                                              ORDER BY h.stream)
                             FROM generate_series(0, 31) s
                             CROSS JOIN LATERAL (SELECT e.stream, e.seq, e.hash FROM audit.events e
                                                 WHERE e.stream = s ORDER BY e.seq DESC LIMIT 1) h), '[]'::jsonb))
$$;
