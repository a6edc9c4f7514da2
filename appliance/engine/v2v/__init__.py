"""V2V: VMs from other hypervisors (a VMware ``.vmx`` with its ``.vmdk`` disks, a Xen guest's
xl configuration with its disk images) mapped to VirtStick's model; the disks are converted
by the import pipeline shared with OVAs (``appliance.engine.imports``), and what could not
be mapped is reported."""
