-- +goose Up
-- Single sign-on. Identity providers a group's users sign in through
-- (OIDC or SAML); settings is their JSON configuration without secrets,
-- client_secret the OIDC client secret sealed under the server secret.
CREATE TABLE sso_providers (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL CHECK (type IN ('oidc', 'saml')),
    display_name  TEXT NOT NULL,
    group_id      BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    settings      TEXT NOT NULL,
    client_secret BYTEA,
    managed       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sso_providers_name ON sso_providers (lower(name));

-- Which provider identity (the OIDC sub, the SAML NameID) is which user.
CREATE TABLE sso_links (
    provider_id BIGINT NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX sso_links_user ON sso_links (user_id);

-- SAML assertions already consumed, kept until they expire: a replayed
-- assertion finds its id here.
CREATE TABLE sso_assertions (
    id         TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);

-- OAuth2 clients registered by administrators. secret_hash is the SHA-256
-- of the secret (shown once); public clients have none and must use PKCE.
-- redirect_uris are newline-separated and matched exactly; scopes are the
-- names the client may ask for, space-separated.
CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    group_id      BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    secret_hash   BYTEA,
    redirect_uris TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_clients_group ON oauth_clients (group_id);

-- Authorization requests between /authorize and the code exchange. Once
-- the user consented, user_id and auth_time are set; code_hash is the
-- SHA-256 (hex) of the single-use code, valid until code_expires_at.
CREATE TABLE oauth_requests (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    request         TEXT NOT NULL,
    user_id         BIGINT REFERENCES users (id) ON DELETE CASCADE,
    auth_time       TIMESTAMPTZ,
    code_hash       TEXT,
    code_expires_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oauth_requests_code ON oauth_requests (code_hash);
CREATE INDEX oauth_requests_expires ON oauth_requests (expires_at);

-- OAuth2 grants: what a user let a client do. A grant is a netkeep
-- session (session_id): revoking the session ends every token of it.
CREATE TABLE oauth_grants (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    auth_time  TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_grants_client ON oauth_grants (client_id);

-- Refresh tokens of OAuth2 grants, stored only as SHA-256 (hex). A grant
-- is a netkeep session (session_id): rotation keeps the session, reuse of a
-- rotated token (used_at set) revokes it.
CREATE TABLE oauth_refresh_tokens (
    hash       TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    auth_time  TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX oauth_refresh_tokens_session ON oauth_refresh_tokens (session_id);

-- Signing keys of the OpenID provider (ECDSA P-256, sealed). The newest
-- signs; older ones are published until every token they signed expired.
CREATE TABLE oauth_keys (
    id          TEXT PRIMARY KEY,
    private_key BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE oauth_keys;
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_grants;
DROP TABLE oauth_requests;
DROP TABLE oauth_clients;
DROP TABLE sso_assertions;
DROP TABLE sso_links;
DROP TABLE sso_providers;
