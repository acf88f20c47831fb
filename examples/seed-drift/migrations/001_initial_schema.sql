-- The schema the team's local databases were made from, before production moved on.
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar NOT NULL UNIQUE,
    password_hash varchar NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    description varchar
);

CREATE TABLE auth_tokens (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token varchar NOT NULL,
    token_type varchar NOT NULL,
    expires_at timestamptz
);
