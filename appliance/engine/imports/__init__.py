"""Systems from elsewhere brought in: the description both OVA import and V2V map a foreign
VM to, and the pipeline they share (checks, locked records, the disks converted on a host in
a job, and everything removed again if a step fails)."""
