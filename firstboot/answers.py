"""The wizard's answers as frozen values, and their validation with one error per field.

The text UI, the web page and the seed file all hand raw values (strings from a form, typed
values from TOML) to the ``parse_*`` functions here; nothing is applied unless every field of
a step parses. Errors name the field by its seed key (``network.address``) so the faces can
show them inline and the seed loader can report them precisely.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface
from typing import Any, TypeVar

from appliance.errors import InvalidInput
from appliance.security.passwords import hash_password
from firstboot.storage_sizing import Backing, StorageBudget, budget_for, propose_backing

_E = TypeVar("_E", bound=StrEnum)


class NetworkMode(StrEnum):
    DHCP = "dhcp"
    STATIC = "static"


@dataclass(frozen=True)
class FieldError:
    key: str  # the seed key, e.g. "network.gateway"
    message: str

    def line(self) -> str:
        return f"{self.key}: {self.message}"


class InvalidAnswers(InvalidInput):
    """One or more fields are wrong; ``errors`` says which and why."""

    code = "invalid-answers"

    def __init__(self, errors: Sequence[FieldError], *, source: str = "answers") -> None:
        self.errors = tuple(errors)
        super().__init__(f"{source}: " + "; ".join(e.line() for e in self.errors))

    def by_key(self) -> dict[str, str]:
        return {e.key: e.message for e in self.errors}


@dataclass(frozen=True)
class NetworkAnswers:
    interface: str
    mode: NetworkMode
    hostname: str
    address: IPv4Interface | None = None  # static only
    gateway: IPv4Address | None = None  # static only; None: an isolated lab network
    dns: tuple[IPv4Address, ...] = ()


@dataclass(frozen=True)
class StorageAnswers:
    backing: Backing
    size_mib: int  # tmpfs size or zram disk size; for a disk, the whole device
    device: str = ""  # disk only: /dev/... chosen and confirmed for wiping


@dataclass(frozen=True)
class AdminAnswers:
    password_hash: str


@dataclass(frozen=True)
class Answers:
    network: NetworkAnswers
    storage: StorageAnswers
    admin: AdminAnswers
    timezone: str = "UTC"


@dataclass(frozen=True)
class Facts:
    """What validation needs to know about the machine (from ``hardware.detect``)."""

    ram_mib: int
    interfaces: frozenset[str] = frozenset()  # empty: not checked
    disks: frozenset[str] = frozenset()  # device nodes offered for persistence
    default_interface: str = ""
    zram: bool | None = None  # the kernel offers zram devices; None: not checked


_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)
_COMMON_PASSWORDS = frozenset(
    {"password", "letmein", "welcome", "qwerty", "iloveyou", "admin", "changeme", "virtstick",
     "ovirt", "redhat", "123456", "dragon", "monkey", "secret"}
)
MIN_PASSWORD_LENGTH = 10


@dataclass
class _Collector:
    """Gathers the errors of one parse so a face can show them all at once."""

    section: str
    errors: list[FieldError] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        self.errors.append(FieldError(f"{self.section}.{key}" if self.section else key, message))


def parse_answers(raw: Mapping[str, Any], facts: Facts, *, source: str = "answers") -> Answers:
    """All steps at once (a seed file, or the web page's single form)."""
    errors: list[FieldError] = []
    allowed = {"network", "storage", "admin", "timezone"}
    errors += [FieldError(k, "unknown key") for k in sorted(set(raw) - allowed)]
    parsed: dict[str, Any] = {}
    for name, parse in (("network", parse_network), ("storage", parse_storage),
                        ("admin", parse_admin)):
        section = raw.get(name, {})
        if not isinstance(section, Mapping):
            errors.append(FieldError(name, "must be a table"))
            continue
        try:
            parsed[name] = parse(section, facts)
        except InvalidAnswers as exc:
            errors += exc.errors
    try:
        parsed["timezone"] = parse_timezone(raw.get("timezone", "UTC"))
    except InvalidAnswers as exc:
        errors += exc.errors
    if errors:
        raise InvalidAnswers(errors, source=source)
    return Answers(**parsed)


def parse_network(raw: Mapping[str, Any], facts: Facts) -> NetworkAnswers:
    out = _Collector("network")
    _unknown(raw, {"interface", "mode", "address", "gateway", "dns", "hostname"}, out)
    interface = _text(raw.get("interface")) or facts.default_interface
    if not interface:
        out.add("interface", "no network interface given and none detected")
    elif facts.interfaces and interface not in facts.interfaces:
        known = ", ".join(sorted(facts.interfaces))
        out.add("interface", f"no interface named {interface!r} (found: {known})")
    mode = _enum(NetworkMode, raw.get("mode", "dhcp"), "mode", out)
    hostname = _text(raw.get("hostname")) or "virtstick"
    if (message := hostname_problem(hostname)) is not None:
        out.add("hostname", message)
    address = gateway = None
    dns = _dns(raw.get("dns", ()), out)
    if mode is NetworkMode.STATIC:
        address = _address(_text(raw.get("address")), out)
        gateway = _gateway(_text(raw.get("gateway")), address, out)
    elif mode is NetworkMode.DHCP:
        for key in ("address", "gateway"):
            if _text(raw.get(key)):
                out.add(key, 'only used with mode = "static"')
    _raise(out)
    assert mode is not None
    return NetworkAnswers(interface=interface, mode=mode, hostname=hostname.lower(),
                          address=address, gateway=gateway, dns=dns)


def parse_storage(raw: Mapping[str, Any], facts: Facts) -> StorageAnswers:
    out = _Collector("storage")
    _unknown(raw, {"backing", "size_mib", "device", "confirm_wipe"}, out)
    proposed = propose_backing(zram=facts.zram).backing
    backing = _enum(Backing, raw.get("backing", proposed.value), "backing", out)
    if backing is Backing.ZRAM and facts.zram is False:
        out.add("backing", 'this kernel has no zram; use backing = "tmpfs"')
    device = _text(raw.get("device"))
    size = _whole(raw.get("size_mib"), "size_mib", out)
    if backing is Backing.DISK:
        if not device:
            out.add("device", 'a disk or partition is required with backing = "disk"')
        elif facts.disks and device not in facts.disks:
            out.add("device", f"{device} is not a disk offered for persistence")
        if raw.get("confirm_wipe") is not True and _text(raw.get("confirm_wipe")) != "yes":
            out.add("confirm_wipe", f"must be true: everything on {device or 'the disk'} "
                                    "will be erased")
        size = size or 0
    elif backing is not None:
        if device:
            out.add("device", 'only used with backing = "disk"')
        budget = budget_for(backing, ram_mib=facts.ram_mib)
        size = _ram_size(size, budget, out)
    _raise(out)
    assert backing is not None and size is not None
    return StorageAnswers(backing=backing, size_mib=size, device=device)


def parse_admin(raw: Mapping[str, Any], facts: Facts) -> AdminAnswers:
    del facts  # same signature as the other steps
    out = _Collector("admin")
    _unknown(raw, {"password", "password_confirm", "password_hash"}, out)
    password = raw.get("password")
    stored = _text(raw.get("password_hash"))
    if stored:
        if password:
            out.add("password", "give either password or password_hash, not both")
        elif not re.fullmatch(r"scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+", stored):
            out.add("password_hash", "not a hash made by hash_password (scrypt$N$r$p$salt$hash)")
        _raise(out)
        return AdminAnswers(password_hash=stored)
    if not isinstance(password, str) or not password:
        out.add("password", "an admin password is required")
    else:
        if (message := password_weakness(password)) is not None:
            out.add("password", message)
        confirm = raw.get("password_confirm", password)
        if confirm != password:
            out.add("password_confirm", "does not match the password")
    _raise(out)
    assert isinstance(password, str)
    return AdminAnswers(password_hash=hash_password(password))


def parse_timezone(value: Any) -> str:
    name = _text(value) or "UTC"
    if name not in zoneinfo.available_timezones() and name != "UTC":
        raise InvalidAnswers([FieldError("timezone", f"unknown time zone {name!r} "
                                                     "(e.g. Europe/Paris, America/New_York)")])
    return name


def hostname_problem(name: str) -> str | None:
    if len(name) > 253:
        return "longer than 253 characters"
    for label in name.rstrip(".").split("."):
        if not _HOSTNAME_LABEL.match(label):
            return (f"{label!r} is not a valid host name label (letters, digits and inner "
                    "hyphens, at most 63 characters)")
    if name.rstrip(".").split(".")[-1].isdigit():
        return "the last label must not be all digits"
    return None


def password_weakness(password: str) -> str | None:
    """Why a password is too weak, or None; the same rule for every face."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"too short: at least {MIN_PASSWORD_LENGTH} characters"
    lowered = password.lower()
    if any(word in lowered for word in _COMMON_PASSWORDS) and len(password) < 16:
        return "built on a common word; add more of your own or make it 16+ characters"
    if len(set(password)) < 5:
        return "too repetitive"
    classes = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if classes < 3 and len(password) < 16:
        return ("mix at least three of: lower case, upper case, digits, symbols "
                "(or use 16+ characters)")
    return None


def _address(text: str, out: _Collector) -> IPv4Interface | None:
    if not text:
        out.add("address", 'required with mode = "static", as address/prefix (192.0.2.10/24)')
        return None
    if "/" not in text:
        out.add("address", "give the prefix length too, e.g. 192.0.2.10/24")
        return None
    try:
        iface = IPv4Interface(text)
    except ValueError:
        addr, _, prefix = text.partition("/")
        if not prefix.isdigit() or not 1 <= int(prefix) <= 32:
            out.add("address", f"prefix /{prefix} is not a number from 8 to 30")
        else:
            out.add("address", f"{addr!r} is not an IPv4 address")
        return None
    if not 8 <= iface.network.prefixlen <= 30:
        out.add("address", f"prefix /{iface.network.prefixlen} is not a number from 8 to 30")
    elif iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        out.add("address", f"{iface.ip} is the network's own or broadcast address")
    elif iface.ip.is_multicast or iface.ip.is_loopback or iface.ip.is_unspecified:
        out.add("address", f"{iface.ip} cannot be a host address")
    else:
        return iface
    return None


def _gateway(text: str, address: IPv4Interface | None, out: _Collector) -> IPv4Address | None:
    if not text:
        return None
    try:
        gateway = IPv4Address(text)
    except ValueError:
        out.add("gateway", f"{text!r} is not an IPv4 address")
        return None
    if address is None:
        return gateway
    if gateway not in address.network:
        out.add("gateway", f"{gateway} is outside the subnet {address.network}")
    elif gateway == address.ip:
        out.add("gateway", "is this machine's own address")
    elif gateway in (address.network.network_address, address.network.broadcast_address):
        out.add("gateway", f"{gateway} is the network's own or broadcast address")
    else:
        return gateway
    return None


def _dns(value: Any, out: _Collector) -> tuple[IPv4Address, ...]:
    items = re.split(r"[\s,]+", value.strip()) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        out.add("dns", "must be a list of IPv4 addresses")
        return ()
    servers: list[IPv4Address] = []
    for item in items:
        if item == "":
            continue
        try:
            servers.append(IPv4Address(str(item)))
        except ValueError:
            out.add("dns", f"{item!r} is not an IPv4 address")
    return tuple(servers)


def _ram_size(size: int | None, budget: StorageBudget, out: _Collector) -> int | None:
    if size is None:
        return budget.proposed_mib
    if size < budget.min_mib:
        out.add("size_mib", f"at least {budget.min_mib} MiB")
    elif size > budget.max_mib:
        out.add("size_mib", f"{size} MiB is above the safe maximum of {budget.max_mib} MiB "
                            f"for {budget.ram_mib} MiB of RAM (the VMs need the rest)")
    else:
        return size
    return None


def _whole(value: Any, key: str, out: _Collector) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        out.add(key, "must be a whole number of MiB")
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    out.add(key, f"{value!r} is not a whole number of MiB")
    return None


def _enum(kind: type[_E], value: Any, key: str, out: _Collector) -> _E | None:
    try:
        return kind(_text(value).lower())
    except ValueError:
        choices = ", ".join(f'"{m.value}"' for m in kind)
        out.add(key, f"{value!r} is not one of {choices}")
        return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)


def _unknown(raw: Mapping[str, Any], allowed: set[str], out: _Collector) -> None:
    for key in sorted(set(raw) - allowed):
        out.add(key, "unknown key")


def _raise(out: _Collector) -> None:
    if out.errors:
        raise InvalidAnswers(out.errors, source=out.section)


def address_text(address: IPv4Interface | None) -> str:
    return "" if address is None else address.with_prefixlen

