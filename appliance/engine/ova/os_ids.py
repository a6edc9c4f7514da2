"""Operating system ids in oVirt's OVAs: ``ovirt:id`` is oVirt's own (osinfo's
``os.<name>.id.value``), ``ovf:id`` the CIM number ``OvfOvaWriter.mapOsId`` gives it."""

from __future__ import annotations

# name: (oVirt's id, CIM id as oVirt's writer maps it)
_BY_NAME: dict[str, tuple[int, int]] = {
    "other": (0, 1),
    "other_linux": (5, 36),
    "rhel_6x64": (19, 80),
    "rhel_7x64": (24, 80),
    "rhel_8x64": (30, 1),
    "rhel_9x64": (34, 80),
    "other_linux_kernel_4": (33, 80),
    "rhcos_x64": (35, 125),
    "debian_7": (1300, 96),
    "debian_9": (1301, 96),
    "ubuntu_14_04": (1256, 94),
    "ubuntu_18_04": (1257, 94),
    "windows_10x64": (27, 121),
    "windows_2016x64": (29, 117),
    "windows_2019x64": (31, 122),
    "windows_11": (36, 1),
    "windows_2022": (37, 1),
}
_BY_OVIRT_ID = {ovirt: name for name, (ovirt, _) in _BY_NAME.items()}


def ids(os_type: str) -> tuple[int, int]:
    """oVirt's and the CIM id of ``os_type``; names oVirt lacks count as "other"."""
    return _BY_NAME.get(os_type, _BY_NAME["other"])


def name_of(ovirt_id: str) -> str | None:
    try:
        return _BY_OVIRT_ID.get(int(ovirt_id))
    except ValueError:
        return None
