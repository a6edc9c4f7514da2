-- VM pools: their settings and members (each VM, and who took it) as JSON.
CREATE TABLE vm_pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL)
