"""What ovirt_template's update check reads of a template is there, so its second run of a
task finds nothing to change (the expressions below are the module's own)."""

from __future__ import annotations

import ovirtsdk4 as sdk


def test_ovirt_templates_update_check_reads_a_template(admin: sdk.Connection) -> None:
    templates = admin.system_service().templates_service()
    entity = templates.list(search="name=Blank")[0]
    read = {
        "os": str(entity.os.type),
        "smartcard": getattr(entity.display, "smartcard_enabled", False),
        "soundcard": entity.soundcard_enabled,
        "ballooning": entity.memory_policy.ballooning,
        "boot_menu": entity.bios.boot_menu.enabled,
        "bios": entity.bios.type.value,
        "sso": bool(entity.sso.methods),
        "timezone": getattr(entity.time_zone, "name", None),
        "usb": entity.usb.enabled,
        "guaranteed": entity.memory_policy.guaranteed,
        "max": entity.memory_policy.max,
        "io": entity.io.threads,
    }
    assert read["ballooning"] is True and read["bios"] == "i440fx_sea_bios"
    assert read["guaranteed"] == entity.memory and read["max"] == 4 * entity.memory
    assert (read["usb"], read["sso"], read["io"]) == (False, False, 1)
