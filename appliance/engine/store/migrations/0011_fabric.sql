-- The lab's fabric as oVirt has it: MAC address pools, data center quotas, instance types.
-- NICs are rebuilt without a unique MAC: a MAC pool may allow duplicates (the engine
-- refuses them in the others).
CREATE TABLE mac_pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE quotas (id TEXT PRIMARY KEY, name TEXT NOT NULL, data_center_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX quotas_datacenter ON quotas (data_center_id);
CREATE TABLE instance_types (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE nics_any_mac (id TEXT PRIMARY KEY, vm_id TEXT NOT NULL, name TEXT NOT NULL, mac TEXT NOT NULL, data TEXT NOT NULL);
INSERT INTO nics_any_mac (id, vm_id, name, mac, data) SELECT id, vm_id, name, mac, data FROM nics;
DROP TABLE nics;
ALTER TABLE nics_any_mac RENAME TO nics;
CREATE INDEX nics_vm ON nics (vm_id);
CREATE INDEX nics_mac ON nics (mac)
