-- Monitoring history and the audit trail.
-- history: one row per object, tier and time bucket; data holds the bucket's metric averages
-- as JSON. The key order (tier, object, time) serves charts of one object and the retention
-- sweep of one tier.
CREATE TABLE history (tier INTEGER NOT NULL, object_id TEXT NOT NULL, time INTEGER NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tier, object_id, time)) WITHOUT ROWID;
-- audit: every user action (allowed, denied or failed): who, from where, what, result.
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, user TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, result TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX audit_time ON audit (time);
CREATE INDEX audit_user ON audit (user);
CREATE INDEX events_time ON events (time)
