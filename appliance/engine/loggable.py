"""Text from requests (user names, ids, descriptions that quote them) made safe for one line
of the service's log: a CR or LF in it would start a forged line ("... admin@internal from
127.0.0.1: vm.remove x: success"), other control characters hide what was written."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_LENGTH = 500


def loggable(text: str) -> str:
    """``text`` with each control character escaped (``\\x0a``), cut at ``MAX_LENGTH``."""
    shown = _UNPRINTABLE.sub(_escape, text[:MAX_LENGTH])
    return shown + ("..." if len(text) > MAX_LENGTH else "")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
