-- A smaller history: objects get a small integer (history_series) instead of repeating their
-- UUID in every row, and a bucket's averages are a JSON array in the order of the kind's
-- columns (appliance/engine/monitoring/history.py). Old history is dropped: it is a cache of
-- what the sampler saw, not configuration.
DROP TABLE history;
CREATE TABLE history_series (id INTEGER PRIMARY KEY, object_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);
CREATE TABLE history (tier INTEGER NOT NULL, series INTEGER NOT NULL, time INTEGER NOT NULL, count INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tier, series, time)) WITHOUT ROWID
