"""The wizard's screens, one per step. Each validates its fields with the same parser as the
seed and the web page and shows every error under its field; nothing is applied until the
summary's Apply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from firstboot.answers import (
    InvalidAnswers,
    parse_admin,
    parse_network,
    parse_storage,
    parse_timezone,
)
from firstboot.hardware import Hardware
from firstboot.session import WizardSession
from firstboot.storage_sizing import Backing, budget_for, propose_backing


class Flow(Protocol):
    """What the screens ask of the app (WizardApp)."""

    session: WizardSession
    answers: dict[str, Any]

    def next_step(self, current: str) -> None: ...

    def start_apply(self) -> None: ...


def field_id(key: str) -> str:
    return key.replace(".", "-")


class StepScreen(Screen[None]):
    """A step: a title, its fields each with an error line, Back and Next."""

    name_ = ""
    heading = ""
    keys: tuple[str, ...] = ()
    next_label = "Next"

    def __init__(self, flow: Flow) -> None:
        super().__init__()
        self.flow = flow
        self.hardware: Hardware = flow.session.hardware

    def compose(self) -> ComposeResult:
        # The buttons stay below the scrolling fields: an 80x25 console shows them always.
        with Vertical(id="frame"):
            with VerticalScroll(id="body"):
                yield Static(self.heading, classes="title")
                yield from self.fields()
            with Horizontal(id="buttons"):
                yield Button("Back", id="back")
                yield Button(self.next_label, id="next", variant="primary")

    def fields(self) -> ComposeResult:
        yield from ()

    def error(self, key: str) -> Label:
        return Label("", id=f"error-{field_id(key)}", classes="error")

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in self.keys:
            widget = self.query_one(f"#{field_id(key)}")
            short = key.split(".")[-1]
            if isinstance(widget, Input):
                values[short] = widget.value
            elif isinstance(widget, Select):
                values[short] = "" if widget.is_blank() else str(widget.value)
            elif isinstance(widget, Checkbox):
                values[short] = widget.value
        return values

    def check(self, values: Mapping[str, Any]) -> None:
        """Raise InvalidAnswers when a field is wrong."""

    def show_errors(self, errors: Mapping[str, str]) -> None:
        for key in self.keys:
            self.query_one(f"#error-{field_id(key)}", Label).update(errors.get(key, ""))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        # Textual calls this handler of every class in the MRO: subclasses override
        # on_next instead of redefining it.
        if event.button.id == "back":
            if len(self.app.screen_stack) > 2:
                self.app.pop_screen()
        elif event.button.id == "next":
            self.on_next(event.button)

    def on_next(self, button: Button) -> None:
        values = self.values()
        try:
            self.check(values)
        except InvalidAnswers as exc:
            self.show_errors(exc.by_key())
            return
        self.show_errors({})
        self.flow.answers[self.name_] = values
        self.flow.next_step(self.name_)


class WelcomeScreen(StepScreen):
    name_ = "welcome"
    heading = "Welcome to VirtStick: this machine"

    def fields(self) -> ComposeResult:
        hw = self.hardware
        yield Static(f"CPU virtualization: {hw.cpu.value}"
                     f"{' (/dev/kvm present)' if hw.kvm_device else ''}\n"
                     f"RAM: {hw.ram_mib} MiB\n"
                     f"Network interfaces: {', '.join(n.name for n in hw.nics) or 'none'}\n"
                     f"Disks: {', '.join(f'{d.node} {d.size_mib} MiB' for d in hw.disks)}",
                     id="hardware")
        for warning in hw.warnings():
            yield Static(warning, classes="note")
        for notice in self.flow.session.notices:
            yield Static(notice, classes="error notice")
        yield Static(f"A browser elsewhere can use http://<this machine>/ with the setup code "
                     f"{self.flow.session.setup_code}", classes="note", id="setup-code")


class NetworkScreen(StepScreen):
    name_ = "network"
    heading = "Network: the management interface and the bridge ovirtmgmt"
    keys = ("network.interface", "network.mode", "network.address", "network.gateway",
            "network.dns", "network.hostname")

    def fields(self) -> ComposeResult:
        # A re-run starts from the current configuration (WizardApp's ``initial``).
        now: Mapping[str, str] = self.flow.answers.get("network", {})
        nics = [(f"{n.name} {n.mac} {n.driver}{' (cable in)' if n.carrier else ''}", n.name)
                for n in self.hardware.nics]
        interface = now.get("interface") or self.hardware.default_nic()
        yield Label("Interface")
        yield Select(nics, id="network-interface", allow_blank=not nics,
                     value=interface if interface in {n for _, n in nics} else Select.BLANK)
        yield self.error("network.interface")
        yield Label("Addressing")
        yield Select([("DHCP", "dhcp"), ("Static", "static")], id="network-mode",
                     allow_blank=False, value=now.get("mode", "dhcp"))
        yield self.error("network.mode")
        for key, label, hint in (("address", "Address/prefix (static)", "192.0.2.10/24"),
                                 ("gateway", "Gateway (static, optional)", "192.0.2.1"),
                                 ("dns", "DNS servers", "192.0.2.1 198.51.100.53")):
            yield Label(label)
            yield Input(now.get(key, ""), placeholder=hint, id=f"network-{key}")
            yield self.error(f"network.{key}")
        yield Label("Host name")
        yield Input(value=now.get("hostname", "virtstick"), id="network-hostname")
        yield self.error("network.hostname")

    def check(self, values: Mapping[str, Any]) -> None:
        parse_network(values, self.flow.session.facts)


class StorageScreen(StepScreen):
    name_ = "storage"
    heading = "Storage: where VM disks live"
    keys = ("storage.backing", "storage.size_mib", "storage.device", "storage.confirm_wipe")

    def fields(self) -> ComposeResult:
        ram = self.hardware.ram_mib
        proposal = propose_backing(zram=self.hardware.zram)
        yield Label("Backing")
        yield Select([("RAM (tmpfs)", "tmpfs"),
                      ("Compressed RAM (zram): more room for thin disks", "zram"),
                      ("A local disk: persistent, ERASES it", "disk")],
                     id="storage-backing", allow_blank=False, value=proposal.backing.value)
        yield Static(proposal.reason, id="proposal", classes="note")
        yield self.error("storage.backing")
        yield Label("Size in MiB")
        yield Input(value=str(budget_for(proposal.backing, ram_mib=ram).proposed_mib),
                    id="storage-size_mib")
        yield self.error("storage.size_mib")
        yield Static("", id="tradeoff", classes="note")
        disks = [(f"{d.node} {d.size_mib} MiB {d.model}", d.node)
                 for d in self.hardware.persistent_candidates()]
        yield Label("Disk (only for a local disk)")
        yield Select(disks, id="storage-device", allow_blank=True)
        yield self.error("storage.device")
        yield Checkbox("Yes, erase that disk", id="storage-confirm_wipe")
        yield self.error("storage.confirm_wipe")

    def on_mount(self) -> None:
        self._update_tradeoff()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "storage-backing" and str(event.value) != "disk":
            budget = budget_for(Backing(str(event.value)), ram_mib=self.hardware.ram_mib)
            self.query_one("#storage-size_mib", Input).value = str(budget.proposed_mib)
        self._update_tradeoff()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_tradeoff()

    def _update_tradeoff(self) -> None:
        values = self.values()
        backing = Backing(values.get("backing") or "tmpfs")
        budget = budget_for(backing, ram_mib=self.hardware.ram_mib)
        size = values.get("size_mib", "")
        text = (budget.tradeoff(int(size)) if str(size).isdigit() else "")
        if backing is not Backing.DISK:
            text += f" Proposed {budget.proposed_mib} MiB, at most {budget.max_mib} MiB."
        self.query_one("#tradeoff", Static).update(text)

    def check(self, values: Mapping[str, Any]) -> None:
        parse_storage({**values, "confirm_wipe": values.get("confirm_wipe") is True},
                      self.flow.session.facts)


class AdminScreen(StepScreen):
    name_ = "admin"
    heading = "Admin password and time zone"
    keys = ("admin.password", "admin.password_confirm", "timezone")

    def fields(self) -> ComposeResult:
        yield Label("Admin password (10+ characters with three kinds of character, or 16+)")
        yield Input(password=True, id="admin-password")
        yield self.error("admin.password")
        yield Label("Admin password again")
        yield Input(password=True, id="admin-password_confirm")
        yield self.error("admin.password_confirm")
        yield Label("Time zone")
        yield Input(value="UTC", id="timezone")
        yield self.error("timezone")

    def check(self, values: Mapping[str, Any]) -> None:
        errors: list[Any] = []
        for parse in (lambda: parse_admin({k: v for k, v in values.items() if k != "timezone"},
                                          self.flow.session.facts),
                      lambda: parse_timezone(values.get("timezone"))):
            try:
                parse()
            except InvalidAnswers as exc:
                errors += exc.errors
        if errors:
            raise InvalidAnswers(errors)


class SummaryScreen(StepScreen):
    name_ = "summary"
    heading = "Summary"
    next_label = "Apply"

    def fields(self) -> ComposeResult:
        answers = self.flow.answers
        lines = [f"{section}.{key} = {value}" for section in ("network", "storage")
                 for key, value in answers.get(section, {}).items() if value not in ("", False)]
        lines.append(f"timezone = {answers.get('admin', {}).get('timezone', 'UTC')}")
        yield Static("\n".join(lines), id="summary")
        yield Static("", id="progress", classes="note")
        yield Label("", id="failure", classes="error")

    def on_next(self, button: Button) -> None:
        button.disabled = True
        self.flow.start_apply()


class DoneScreen(Screen[None]):
    def __init__(self, url: str, *, network_only: bool = False) -> None:
        super().__init__()
        self.url = url  # for a network re-run: the bridge's new addresses
        self.network_only = network_only

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            if self.network_only:
                yield Static("Network applied", classes="title")
                yield Static(f"ovirtmgmt now has {self.url}.", id="url")
            else:
                yield Static("VirtStick is ready", classes="title")
                yield Static(f"Open {self.url} and log in as admin@internal.", id="url")
            yield Button("Finish", id="finish", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.app.exit(self.url)
