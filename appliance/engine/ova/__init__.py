"""OVF descriptors and OVA archives: export VMs and templates as oVirt does, import what
oVirt, VMware and VirtualBox write."""
