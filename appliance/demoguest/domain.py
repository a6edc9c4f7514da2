"""libvirt domain XML for running the demo guest: the shape tests and benchmarks use.

The disk is a qcow2 overlay on the built disk (so the cached base stays clean), booted by
SeaBIOS from a virtio disk; the serial console is the unix socket + log pair that
``console.GuestConsole`` reads (see its docstring for the directory permissions needed).
By default it is what plain libvirt does (no discard, a balloon without page reporting);
``give_back=True`` adds what the appliance sets to give the host freed bytes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from appliance.demoguest.tools import run


@dataclass(frozen=True)
class GuestFiles:
    """Where one running guest keeps its overlay and serial console files."""

    overlay: Path
    serial_socket: Path
    serial_log: Path

    @classmethod
    def in_directory(cls, directory: Path) -> GuestFiles:
        return cls(
            overlay=directory / "disk.qcow2",
            serial_socket=directory / "serial.sock",
            serial_log=directory / "serial.log",
        )


def create_overlay(*, base: Path, overlay: Path) -> None:
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay])


def domain_xml(*, name: str, files: GuestFiles, memory_mib: int = 256, vcpus: int = 1,
               give_back: bool = False) -> str:
    """A TCG ('qemu') domain booting the overlay, with VNC on 127.0.0.1 and the serial pair."""
    sock, log = quoteattr(str(files.serial_socket)), quoteattr(str(files.serial_log))
    driver, balloon = "<driver name='qemu' type='qcow2'/>", "<memballoon model='virtio'/>"
    if give_back:
        driver = "<driver name='qemu' type='qcow2' discard='unmap' detect_zeroes='unmap'/>"
        balloon = ("<memballoon model='virtio' freePageReporting='on'>"
                   "<stats period='5'/></memballoon>")
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>{vcpus}</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      {driver}
      <source file={quoteattr(str(files.overlay))}/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='unix'>
      <source mode='bind' path={sock}/>
      <log file={log} append='off'/>
      <target port='0'/>
    </serial>
    <console type='unix'>
      <source mode='bind' path={sock}/>
      <target type='serial' port='0'/>
    </console>
    <graphics type='vnc' listen='127.0.0.1' port='-1'/>
    <video><model type='vga'/></video>
    {balloon}
  </devices>
</domain>
"""
