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
