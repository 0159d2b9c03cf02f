-- The contact match looks Sngine accounts up by lower-cased email. Sngine's
-- table is not ours, but the database is: an expression index (under our
-- own name) keeps that lookup off a sequential scan. Created only where
-- Sngine's table exists.
DO $$
BEGIN
    IF to_regclass('public.users') IS NOT NULL THEN
        CREATE INDEX IF NOT EXISTS vottery_users_lower_email ON public.users (lower(user_email));
    END IF;
END
$$;
