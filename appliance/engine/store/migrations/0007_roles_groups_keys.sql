-- Custom roles, groups of the internal domain (a permission may be a group's), and users'
-- SSH public keys.
CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE groups (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
ALTER TABLE permissions ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
CREATE INDEX permissions_group ON permissions (group_id);
CREATE TABLE ssh_public_keys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX ssh_public_keys_user ON ssh_public_keys (user_id)
