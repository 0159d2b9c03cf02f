-- Sessions (opened on a verified biometric) and their refresh tokens, kept
-- only as SHA-256 hashes; a token's parent links the rotation chain, so a
-- rotated token presented again is recognised. Nothing is deleted: a
-- session ends by revocation or expiry.
CREATE TABLE devices.sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL,
    device_id     text NOT NULL,
    amr           text[] NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);

CREATE INDEX sessions_user ON devices.sessions (user_id);

CREATE TABLE devices.refresh_tokens (
    hash        bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES devices.sessions (id),
    parent_hash bytea REFERENCES devices.refresh_tokens (hash),
    issued_at   timestamptz NOT NULL,
    rotated_at  timestamptz
);

CREATE INDEX refresh_tokens_session ON devices.refresh_tokens (session_id);
CREATE INDEX refresh_tokens_parent ON devices.refresh_tokens (parent_hash);

REVOKE DELETE ON devices.sessions, devices.refresh_tokens FROM vottery_devices;
