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

INSERT INTO public.users (user_name, user_email, user_phone, user_firstname, user_lastname, user_activated, user_banned)
VALUES
    ('ada',   'ada@example.com',   '+447912345678', 'Ada',   'Lovelace', '1', '0'),
    ('grace', 'grace@example.com', '+16502530000',  'Grace', 'Hopper',   '1', '0'),
    ('alan',  'alan@example.com',  '+447400123456', 'Alan',  'Turing',   '1', '1'),
    ('edsger','edsger@example.com','+31612345678',  'Edsger','Dijkstra', '0', '0')
ON CONFLICT (user_name) DO NOTHING;
