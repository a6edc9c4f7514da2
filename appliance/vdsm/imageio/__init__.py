"""Disk data in and out of the host through ovirt-imageio's own daemon, as on an oVirt host.

The host agent supervises one ``ovirt-imageio`` process (a subprocess of the service, with a
configuration directory of ours), serves each transfer's volume to it through ``qemu-nbd`` on
a unix socket, and adds and removes the transfer's ticket over the daemon's control socket.
The image data flows between the client and the daemon; it never passes through the service.
"""
