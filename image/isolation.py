"""Run a build command where it cannot touch the host's devices.

diskimage-builder bind-mounts the host's ``/dev`` into its chroot, and package scripts there
act on it: ``systemd-tmpfiles`` applies ``z /dev/kvm 0660 - kvm -`` with the *chroot's* group
ids, handing the host's /dev/kvm to whatever group has that id here (seen: postgres), after
which QEMU's user can no longer open it and libvirt re-probes QEMU on every call. So the
build runs in a private mount namespace whose /dev is a fresh tmpfs with the few nodes a
package build needs, and loop devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

_PRIVATE_DEV = """
set -e
mount -t tmpfs -o mode=0755,nosuid devtmp /dev
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0 ptmx:5:2; do
    name=${node%%:*}; rest=${node#*:}
    mknod -m 0666 /dev/$name c ${rest%%:*} ${rest#*:}
done
# The block-device phase makes its file system on a loop device, even for a tar output.
mknod -m 0660 /dev/loop-control c 10 237
for n in $(seq 0 63); do mknod -m 0660 /dev/loop$n b 7 $n; done
mkdir /dev/pts /dev/shm /dev/mapper
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
exec "$@"
"""


def with_private_dev(command: Sequence[str | PathLike[str]]) -> list[str]:
    """``command`` wrapped to run with a private, minimal /dev."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", _PRIVATE_DEV,
            "private-dev", *(str(part) for part in command)]
