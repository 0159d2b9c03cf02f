-- A member's own profile fields (display name, first and last name,
-- language, time zone) as one JSON document sealed under the member's data
-- key (users.accounts.data_key_wrapped), never in clear. `version` makes
-- every write conditional on the version read (ETag / If-Match).
CREATE TABLE users.profiles (
    user_id    uuid PRIMARY KEY REFERENCES users.accounts (id) ON DELETE CASCADE,
    sealed     bytea NOT NULL,
    version    bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
