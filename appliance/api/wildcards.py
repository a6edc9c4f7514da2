"""Search values with ``*`` wildcards, matched in linear time.

A regular expression of ``.*`` pieces backtracks: ``*a*a*a*a*b`` against a long name costs
a power of its length, holding the interpreter lock meanwhile. A ``*``-only pattern needs no
backtracking at all: its first piece must start the text, its last end it, and the pieces
between may each take their leftmost place after the one before (a later place never helps
the pieces that follow). Each piece is found once with ``str.find``.
"""

from __future__ import annotations

from dataclasses import dataclass

WILDCARD = "*"


@dataclass(frozen=True)
class Wildcard:
    """A value as a search states it: ``web*``, ``*db*``, ``exact``."""

    pieces: tuple[str, ...]  # the text between the wildcards; one piece without any
    case_sensitive: bool = True

    @classmethod
    def parse(cls, value: str, *, case_sensitive: bool = True) -> Wildcard:
        text = value if case_sensitive else value.casefold()
        return cls(tuple(text.split(WILDCARD)), case_sensitive)

    @property
    def wildcards(self) -> int:
        return len(self.pieces) - 1

    def matches(self, text: str) -> bool:
        if not self.case_sensitive:
            text = text.casefold()
        if len(self.pieces) == 1:
            return text == self.pieces[0]
        first, *middle, last = self.pieces
        if len(text) < len(first) + len(last) or not text.startswith(first) \
                or not text.endswith(last):
            return False
        position, end = len(first), len(text) - len(last)
        for piece in middle:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True
