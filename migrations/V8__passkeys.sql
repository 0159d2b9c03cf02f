-- Passkeys (WebAuthn credentials with user verification), one per member
-- and device: the credential id, its public key and state as the
-- verification library encodes them, and what the authenticator said of
-- itself. No biometric sample ever reaches the server.
CREATE TABLE auth.passkeys (
    credential_id      bytea PRIMARY KEY,
    user_id            uuid NOT NULL,
    device_id          text NOT NULL,
    public_key         bytea NOT NULL,
    state              bytea NOT NULL,
    algorithm          text NOT NULL,
    attestation        text NOT NULL,
    aaguid             text NOT NULL,
    transports         text[] NOT NULL,
    sign_count         bigint NOT NULL,
    backup_eligible    boolean NOT NULL,
    backed_up          boolean NOT NULL,
    created_at         timestamptz NOT NULL,
    last_used_at       timestamptz NOT NULL,
    clone_suspected_at timestamptz
);

CREATE INDEX passkeys_device ON auth.passkeys (device_id);
CREATE INDEX passkeys_user ON auth.passkeys (user_id);
