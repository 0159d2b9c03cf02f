-- What the frontend reports of a member's use of the dashboard
-- (POST /api/users/activity): a type from the operator's allowlist, when it
-- happened, the device of the member's session and a small JSON object.
-- Security events stay in audit.events; the member's history merges both.
CREATE TABLE users.activity (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users.accounts (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    device_id   text CHECK (length(device_id) <= 128),
    details     jsonb NOT NULL DEFAULT '{}'
                CHECK (jsonb_typeof(details) = 'object' AND octet_length(details::text) <= 2048)
);

-- The member's history, newest first.
CREATE INDEX activity_by_member ON users.activity (user_id, occurred_at DESC, id DESC);
-- Retention deletes by age.
CREATE INDEX activity_by_age ON users.activity (received_at);
