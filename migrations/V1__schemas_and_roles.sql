-- One schema and one login role per service; each role reaches only its own
-- schema. Roles are cluster-wide, so they are created only when missing.
DO $$
DECLARE
    svc text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['auth', 'users', 'security', 'devices'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vottery_' || svc) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', 'vottery_' || svc);
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA auth;
CREATE SCHEMA users;
CREATE SCHEMA security;
CREATE SCHEMA devices;

DO $$
DECLARE
    svc text;
BEGIN
    FOREACH svc IN ARRAY ARRAY['auth', 'users', 'security', 'devices'] LOOP
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', svc);
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', svc, 'vottery_' || svc);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', svc, 'vottery_' || svc);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I', svc, 'vottery_' || svc);
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), 'vottery_' || svc);
    END LOOP;
END
$$;
