-- Vottery's own user, linked to a Sngine account. The email and phone are
-- kept as keyed blind indexes (to find a user by contact without reading
-- it) and sealed (AES-256-GCM under a data key wrapped by the security
-- service's pii-wrapping key), never in clear.
CREATE TABLE users.accounts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sngine_user_id   bigint NOT NULL UNIQUE,
    email_index      bytea NOT NULL,
    phone_index      bytea NOT NULL,
    email_sealed     bytea NOT NULL,
    phone_sealed     bytea NOT NULL,
    data_key_kid     text NOT NULL,
    data_key_wrapped bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX accounts_email_index ON users.accounts (email_index);
CREATE INDEX accounts_phone_index ON users.accounts (phone_index);
