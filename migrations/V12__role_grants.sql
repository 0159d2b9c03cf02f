-- Roles beyond `member` (every member's, never stored): who holds which,
-- who granted it (NULL: the operator's `vottery-admin grant` command),
-- until when, and its revocation. At most one unrevoked grant per member
-- and role; a revoked grant stays as history.
CREATE TABLE users.role_grants (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users.accounts (id) ON DELETE CASCADE,
    role       text NOT NULL
               CHECK (role IN ('moderator', 'election_admin', 'auditor', 'user_admin', 'security_admin')),
    granted_by uuid REFERENCES users.accounts (id) ON DELETE SET NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    revoked_by uuid REFERENCES users.accounts (id) ON DELETE SET NULL,
    CHECK (expires_at IS NULL OR expires_at > granted_at),
    CHECK (revoked_at IS NULL OR revoked_at >= granted_at)
);

CREATE UNIQUE INDEX role_grants_one_unrevoked ON users.role_grants (user_id, role) WHERE revoked_at IS NULL;
