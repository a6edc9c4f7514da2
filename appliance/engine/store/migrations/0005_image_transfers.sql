-- Image transfers (oVirt's imagetransfers): kept a while after they finish, as oVirt does,
-- so clients polling a transfer see how it ended.
CREATE TABLE image_transfers (id TEXT PRIMARY KEY, disk_id TEXT NOT NULL, phase TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX image_transfers_disk ON image_transfers (disk_id)
