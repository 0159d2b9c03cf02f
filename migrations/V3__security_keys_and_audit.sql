-- Keys of the security service. Private halves are stored only sealed under
-- the master key (which never reaches the database); a destroyed key keeps
-- its record and public half, and loses its wrapped private half.
CREATE TABLE security.keys (
    kid             text PRIMARY KEY,
    purpose         text NOT NULL CHECK (purpose IN ('token-signing', 'data-signing', 'pii-wrapping', 'rsa-encryption', 'election')),
    version         integer NOT NULL CHECK (version > 0),
    algorithm       text NOT NULL,
    state           text NOT NULL CHECK (state IN ('active', 'retiring', 'retired', 'destroyed')),
    public_key      bytea,
    wrapped_private bytea,
    master_key_id   text,
    created_at      timestamptz NOT NULL,
    retiring_at     timestamptz,
    retired_at      timestamptz,
    destroyed_at    timestamptz,
    UNIQUE (purpose, version),
    CHECK ((state = 'destroyed') = (wrapped_private IS NULL)),
    CHECK ((wrapped_private IS NULL) = (master_key_id IS NULL))
);

-- At most one active key per purpose, whatever two requests race to do.
CREATE UNIQUE INDEX keys_one_active_per_purpose ON security.keys (purpose) WHERE state = 'active';

-- Keys are never deleted, only destroyed.
REVOKE DELETE, TRUNCATE ON security.keys FROM vottery_security;

-- The audit log shared by every service: append-only and hash-chained, so a
-- row altered or removed afterwards breaks the chain. Services cannot touch
-- the table; they call audit.append, which records the calling service from
-- the login role (a service cannot write in another's name).
CREATE SCHEMA audit;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;

CREATE TABLE audit.events (
    id        bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    service   text NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    subject   text,
    outcome   text NOT NULL,
    detail    jsonb NOT NULL,
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL
);

CREATE FUNCTION audit.event_hash(prev bytea, id bigint, at timestamptz, service text, actor text, action text,
                                 subject text, outcome text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || convert_to(concat_ws(E'\n', id::text, extract(epoch FROM at)::text, service, actor,
                                               action, coalesce(subject, ''), outcome, detail::text), 'UTF8'))
$$;

CREATE FUNCTION audit.append(p_actor text, p_action text, p_subject text, p_outcome text, p_detail jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
DECLARE
    v_prev bytea;
    v_id bigint;
    v_at timestamptz := clock_timestamp();
    v_service text := regexp_replace(session_user, '^vottery_', '');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit.events'));
    SELECT e.id + 1, e.hash INTO v_id, v_prev FROM audit.events e ORDER BY e.id DESC LIMIT 1;
    v_id := coalesce(v_id, 1);
    v_prev := coalesce(v_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    INSERT INTO audit.events VALUES (v_id, v_at, v_service, p_actor, p_action, p_subject, p_outcome,
        coalesce(p_detail, '{}'::jsonb), v_prev,
        audit.event_hash(v_prev, v_id, v_at, v_service, p_actor, p_action, p_subject, p_outcome, coalesce(p_detail, '{}'::jsonb)));
    RETURN v_id;
END
$$;

-- The first event whose hash or link does not hold (NULL when the whole
-- chain holds). For operators and auditors, not for services.
CREATE FUNCTION audit.first_broken_link() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, audit AS $$
    SELECT min(id) FROM (
        SELECT e.id, e.hash, e.prev_hash,
               lag(e.hash) OVER (ORDER BY e.id) AS expected_prev,
               lag(e.id) OVER (ORDER BY e.id) AS prev_id,
               audit.event_hash(e.prev_hash, e.id, e.at, e.service, e.actor, e.action, e.subject, e.outcome, e.detail) AS computed
        FROM audit.events e
    ) chain
    WHERE hash <> computed
       OR prev_hash <> coalesce(expected_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
       OR id <> coalesce(prev_id + 1, 1)
$$;

REVOKE ALL ON FUNCTION audit.append(text, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.first_broken_link() FROM PUBLIC;
DO $$
DECLARE
    svc text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['auth', 'users', 'security', 'devices'] LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA audit TO %I', 'vottery_' || svc);
        EXECUTE format('GRANT EXECUTE ON FUNCTION audit.append(text, text, text, text, jsonb) TO %I', 'vottery_' || svc);
    END LOOP;
END
$$;
