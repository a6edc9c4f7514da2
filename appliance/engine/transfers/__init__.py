"""Image transfers (oVirt's ``imagetransfers``): disks uploaded and downloaded through
ovirt-imageio, and the disk snapshots a transfer may read."""
