-- Users, and permissions (a user holds a role on an object: the system, or one VM).
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE permissions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, role_id TEXT NOT NULL, object_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX permissions_user ON permissions (user_id);
CREATE INDEX permissions_object ON permissions (object_id);
