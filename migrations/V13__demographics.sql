-- Demographics. Sngine's birth date and gender reach the users service only
-- through its view (the birth date is read to derive an age band and never
-- copied). A member who consents to demographic use has one coarse record
-- here (age band, gender, country, region, language), refreshed when they
-- read their demographics, deleted when they withdraw; the k-anonymous
-- summary counts these records only.
CREATE OR REPLACE VIEW users.sngine_accounts AS
SELECT
    u.user_id::bigint                         AS sngine_user_id,
    u.user_name                               AS username,
    u.user_email                              AS email,
    u.user_phone                              AS phone,
    u.user_firstname                          AS first_name,
    u.user_lastname                           AS last_name,
    (u.user_activated = '1')                  AS activated,
    (u.user_banned = '1')                     AS banned,
    u.user_registered                         AS registered_at,
    u.user_birthdate::date                    AS birth_date,
    u.user_gender::text                       AS gender
FROM public.users AS u;

CREATE TABLE users.demographic_records (
    user_id      uuid PRIMARY KEY REFERENCES users.accounts (id) ON DELETE CASCADE,
    age_band     text CHECK (age_band IN ('under_18', '18-24', '25-34', '35-44', '45-54', '55-64', '65+')),
    gender       text CHECK (length(gender) <= 32),
    country      text CHECK (length(country) <= 8),
    region       text CHECK (length(region) <= 128),
    language     text CHECK (length(language) <= 35),
    consented_at timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX demographic_records_cells ON users.demographic_records (age_band, gender, country);
