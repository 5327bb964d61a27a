-- +goose Up
-- API keys of every product's format. format is the secret's shape (nk, gk,
-- nr_live, nekzus); scope_names keeps the scope names as given at creation,
-- space-separated, in the vocabulary of the product the key was created
-- through, so they are echoed back unchanged; scopes keeps the netkeep
-- actions they grant. Keys made before this were all nk_ keys created with
-- netkeep's own names, so their names are their grants.
ALTER TABLE api_keys ADD COLUMN format TEXT NOT NULL DEFAULT 'nk';
ALTER TABLE api_keys ADD COLUMN scope_names TEXT NOT NULL DEFAULT '';
UPDATE api_keys SET scope_names = scopes;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN scope_names;
ALTER TABLE api_keys DROP COLUMN format;
