-- Registered devices: the client-generated id (bound to its member, its
-- credential and its sessions), what it is, where it was last seen from,
-- a keyed fingerprint of its stable attributes, and whether its member
-- trusts it.
CREATE TABLE devices.devices (
    device_id        text PRIMARY KEY,
    user_id          uuid NOT NULL,
    kind             text NOT NULL,
    os               text,
    os_version       text,
    browser          text,
    browser_version  text,
    model            text,
    fingerprint      bytea NOT NULL,
    last_ip          text NOT NULL,
    country          text,
    region           text,
    city             text,
    name             text,
    trusted          boolean NOT NULL DEFAULT false,
    first_seen_at    timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL
);

CREATE INDEX devices_user ON devices.devices (user_id);
