-- The audit log without a lock shared by every writer. Until now each append
-- took one advisory lock held to commit (one chain for the whole platform),
-- so every audited write of every replica queued on it. From here on the log
-- is 32 streams, each its own hash chain: an append takes the first free
-- stream starting from one picked by its backend (a try-lock, never a wait
-- while one is free), links to that stream's last row, and holds only that
-- stream until commit. Ids come from a sequence: unique, not gap-free.
--
-- The rows written before (stream NULL) keep their single chain, and are
-- sealed by the first checkpoint, which holds that chain's last row as well
-- as every stream's head. A checkpoint is signed by the security service with
-- its `log-signing` key over a Merkle root of those heads; `vottery-admin
-- audit verify` checks every chain, every checkpoint's signature and root,
-- and that every checkpointed head is still in place.
ALTER TABLE audit.events ADD COLUMN stream smallint, ADD COLUMN seq bigint;
ALTER TABLE audit.events ADD CONSTRAINT events_stream_seq CHECK ((stream IS NULL) = (seq IS NULL));
CREATE UNIQUE INDEX events_by_stream ON audit.events (stream, seq) WHERE stream IS NOT NULL;

CREATE SEQUENCE audit.event_ids;
SELECT setval('audit.event_ids', coalesce((SELECT max(id) FROM audit.events), 0) + 1, false);

-- A stream's first row links to this, so no two streams share a start.
CREATE FUNCTION audit.stream_genesis(p_stream integer) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to('vottery-audit-stream:' || p_stream::text, 'UTF8'))
$$;

CREATE FUNCTION audit.stream_event_hash(prev bytea, stream integer, seq bigint, id bigint, at timestamptz,
                                        service text, actor text, action text, subject text, outcome text,
                                        detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || convert_to(concat_ws(E'\n', stream::text, seq::text, id::text, extract(epoch FROM at)::text,
                                               service, actor, action, coalesce(subject, ''), outcome, detail::text),
                                     'UTF8'))
$$;

CREATE OR REPLACE FUNCTION audit.append(p_actor text, p_action text, p_subject text, p_outcome text, p_detail jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
DECLARE
    v_streams constant integer := 32;
    v_first integer := pg_backend_pid() % v_streams;
    v_stream integer;
    v_seq bigint;
    v_prev bytea;
    v_id bigint := nextval('audit.event_ids');
    v_at timestamptz := clock_timestamp();
    v_service text := regexp_replace(session_user, '^vottery_', '');
    v_detail jsonb := coalesce(p_detail, '{}'::jsonb);
BEGIN
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

-- The first row, by id, whose hash or link does not hold, in the rows written
-- before the streams or in any stream (NULL when all hold). A quick check
-- inside the database; `vottery-admin audit verify` recomputes every hash
-- itself and checks the signed checkpoints.
CREATE OR REPLACE FUNCTION audit.first_broken_link() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, audit AS $$
    SELECT min(id) FROM (
        SELECT e.id FROM (
            SELECT e.*, lag(e.hash) OVER (ORDER BY e.id) AS expected_prev, lag(e.id) OVER (ORDER BY e.id) AS prev_id
            FROM audit.events e WHERE e.stream IS NULL
        ) e
        WHERE e.hash <> audit.event_hash(e.prev_hash, e.id, e.at, e.service, e.actor, e.action, e.subject, e.outcome, e.detail)
           OR e.prev_hash <> coalesce(e.expected_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
           OR e.id <> coalesce(e.prev_id + 1, 1)
        UNION ALL
        SELECT e.id FROM (
            SELECT e.*, lag(e.hash) OVER w AS expected_prev, lag(e.seq) OVER w AS prev_seq
            FROM audit.events e WHERE e.stream IS NOT NULL
            WINDOW w AS (PARTITION BY e.stream ORDER BY e.seq)
        ) e
        WHERE e.hash <> audit.stream_event_hash(e.prev_hash, e.stream, e.seq, e.id, e.at, e.service, e.actor, e.action,
                                                e.subject, e.outcome, e.detail)
           OR e.prev_hash <> coalesce(e.expected_prev, audit.stream_genesis(e.stream))
           OR e.seq <> coalesce(e.prev_seq + 1, 1)
    ) broken
$$;

-- Signed checkpoints. `heads` is {"legacy": {"id", "hash"} | null, "streams":
-- [{"stream", "seq", "hash"}]} with hashes in hex; `root` the Merkle root over
-- them (vottery-security-core's `audit` module says how); `signature` the
-- log-signing key's Ed25519 signature over the checkpoint's statement.
CREATE TABLE audit.checkpoints (
    id        bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    at        timestamptz NOT NULL,
    heads     jsonb NOT NULL,
    root      bytea NOT NULL,
    kid       text NOT NULL,
    signature bytea NOT NULL
);

-- What a checkpoint covers: the last row of the rows before the streams and
-- of every stream.
CREATE FUNCTION audit.heads() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
    SELECT jsonb_build_object(
        'legacy', (SELECT jsonb_build_object('id', e.id, 'hash', encode(e.hash, 'hex'))
                   FROM audit.events e WHERE e.stream IS NULL ORDER BY e.id DESC LIMIT 1),
        'streams', coalesce((SELECT jsonb_agg(jsonb_build_object('stream', h.stream, 'seq', h.seq, 'hash', encode(h.hash, 'hex'))
                                              ORDER BY h.stream)
                             FROM (SELECT DISTINCT ON (e.stream) e.stream, e.seq, e.hash FROM audit.events e
                                   WHERE e.stream IS NOT NULL ORDER BY e.stream, e.seq DESC) h), '[]'::jsonb))
$$;

CREATE FUNCTION audit.add_checkpoint(p_at timestamptz, p_heads jsonb, p_root bytea, p_kid text, p_signature bytea)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
    INSERT INTO audit.checkpoints (at, heads, root, kid, signature) VALUES (p_at, p_heads, p_root, p_kid, p_signature)
    RETURNING id
$$;

REVOKE ALL ON FUNCTION audit.heads(), audit.add_checkpoint(timestamptz, jsonb, bytea, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.heads(), audit.add_checkpoint(timestamptz, jsonb, bytea, text, bytea) TO vottery_security;

ALTER TABLE security.keys DROP CONSTRAINT keys_purpose_check;
ALTER TABLE security.keys ADD CONSTRAINT keys_purpose_check
    CHECK (purpose IN ('token-signing', 'data-signing', 'pii-wrapping', 'rsa-encryption', 'election', 'log-signing'));
