-- +goose Up
-- Who may connect to a mesh hub as a VPN client: GateKey's hub users and
-- groups. A hub with members gives its clients' rules only to them (users
-- named, and every user of a group named); a hub without any is governed
-- by the access rules alone. member_id is a user's or a group's id; no
-- foreign key to users: a deleted user's row matches no one.
CREATE TABLE mesh_hub_members (
    hub_id    TEXT NOT NULL REFERENCES mesh_hubs (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    member_id BIGINT NOT NULL,
    PRIMARY KEY (hub_id, kind, member_id)
);

-- +goose Down
DROP TABLE mesh_hub_members;
