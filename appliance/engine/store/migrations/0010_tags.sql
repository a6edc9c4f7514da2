-- Tags (under oVirt's root tag, which is not stored) and the VMs and hosts carrying them.
CREATE TABLE tags (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE tag_assignments (id TEXT PRIMARY KEY, tag_id TEXT NOT NULL, object_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX tag_assignments_object ON tag_assignments (object_id);
CREATE INDEX tag_assignments_tag ON tag_assignments (tag_id)
