-- Development fixture: a stand-in for Sngine's `users` table with Sngine's
-- column names and types, and a few accounts to sign in with. Applied only
-- by `vottery-migrate --dev-fixtures`, never in production (where Sngine
-- owns the real table).
CREATE TABLE IF NOT EXISTS public.users (
    user_id         bigserial PRIMARY KEY,
    user_name       varchar(64)  NOT NULL UNIQUE,
    user_email      varchar(128) NOT NULL UNIQUE,
    user_phone      varchar(32),
    user_password   varchar(255) NOT NULL DEFAULT '',
    user_firstname  varchar(256) NOT NULL DEFAULT '',
    user_lastname   varchar(256) NOT NULL DEFAULT '',
    user_gender     varchar(16),
    user_birthdate  date,
    user_activated  char(1)      NOT NULL DEFAULT '1',
    user_banned     char(1)      NOT NULL DEFAULT '0',
    user_registered timestamp    NOT NULL DEFAULT now()
);

INSERT INTO public.users (user_name, user_email, user_phone, user_firstname, user_lastname, user_gender,
    user_birthdate, user_activated, user_banned)
VALUES
    ('ada',   'ada@example.com',   '+447912345678', 'Ada',   'Lovelace', 'female', '1988-03-02', '1', '0'),
    ('grace', 'grace@example.com', '+16502530000',  'Grace', 'Hopper',   'Female', '1986-09-09', '1', '0'),
    ('alan',  'alan@example.com',  '+447400123456', 'Alan',  'Turing',   'male',   '1982-06-23', '1', '1'),
    ('edsger','edsger@example.com','+31612345678',  'Edsger','Dijkstra', 'male',   '1980-05-11', '0', '0')
ON CONFLICT (user_name) DO UPDATE SET user_gender = EXCLUDED.user_gender, user_birthdate = EXCLUDED.user_birthdate;
