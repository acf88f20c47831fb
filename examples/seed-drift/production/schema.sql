-- What production looks like after it was migrated by hand. parity/production.json was captured
-- from a database built from this file with `invoke db.snapshot --from prod`.
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    password_hash varchar(255) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    first_name varchar(100),
    last_name varchar(100),
    is_admin boolean DEFAULT false
);

CREATE TABLE roles (
    id serial PRIMARY KEY,
    name varchar(100) NOT NULL UNIQUE,
    description text
);

CREATE TABLE auth_tokens (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token varchar(255) NOT NULL,
    token_type varchar(50) NOT NULL,
    expires_at timestamptz
);

-- Rows, so that the profile's sizes (the planner's statistics, never the rows) are a production's:
-- db.lint --hazards and db.fix size each rewrite and scan from them.
INSERT INTO roles (name, description) SELECT 'role ' || i, 'generated' FROM generate_series(1, 40) AS i;
INSERT INTO users (email, password_hash, first_name, last_name)
SELECT 'user' || i || '@example.com', md5(i::text), 'First', 'Last' FROM generate_series(1, 250000) AS i;
INSERT INTO auth_tokens (user_id, token, token_type, expires_at)
SELECT 1 + i % 250000, md5('token' || i), 'session', now() + interval '1 day' FROM generate_series(1, 600000) AS i;
VACUUM ANALYZE;
