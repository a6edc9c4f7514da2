-- Affinity groups in a table of their own (they were a list inside their cluster's row,
-- kept there as VM-to-VM rules only), and affinity labels. A group moved from a cluster
-- keeps its name, VMs and VM-to-VM rule, and gets an id.
CREATE TABLE affinity_groups (id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (cluster_id, name));
CREATE TABLE affinity_labels (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
INSERT INTO affinity_groups (id, cluster_id, name, data) SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6))), c.id, json_extract(g.value, '$.name'), json_object('cluster_id', c.id, 'name', json_extract(g.value, '$.name'), 'vm_ids', json(json_extract(g.value, '$.vm_ids')), 'vms_rule', json_object('polarity', CASE WHEN json_extract(g.value, '$.positive') THEN 'positive' ELSE 'negative' END, 'enforcing', json(CASE WHEN json_extract(g.value, '$.enforcing') THEN 'true' ELSE 'false' END))) FROM clusters AS c, json_each(c.data, '$.affinity_groups') AS g;
UPDATE affinity_groups SET data = json_set(data, '$.id', id);
UPDATE clusters SET data = json_remove(data, '$.affinity_groups')
