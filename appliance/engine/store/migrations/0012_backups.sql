-- VM backups and their checkpoints (oVirt's vm_backups and vm_checkpoints): backups are kept
-- a while after they end, as oVirt does, so clients polling one see how it ended.
CREATE TABLE vm_backups (id TEXT PRIMARY KEY, vm_id TEXT NOT NULL, phase TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX vm_backups_vm ON vm_backups (vm_id);
CREATE TABLE vm_checkpoints (id TEXT PRIMARY KEY, vm_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX vm_checkpoints_vm ON vm_checkpoints (vm_id)
