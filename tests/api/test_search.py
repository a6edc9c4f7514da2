"""The search language without a server: wildcards match as a glob does, in linear time, and
a search beyond its bounds is refused with a reason."""

from __future__ import annotations

import itertools
import random
import re
import threading
from dataclasses import dataclass

import pytest

from appliance.api import search
from appliance.api.wildcards import Wildcard
from appliance.errors import SearchTooComplex


@dataclass(frozen=True)
class Named:
    name: str
    description: str = ""


FIELDS: dict[str, search.Getter] = {"name": lambda o: o.name,
                                    "description": lambda o: o.description}


def _reference(pattern: str, text: str, *, case_sensitive: bool = True) -> bool:
    """What a ``*`` glob means, said the slow way (fine on short texts)."""
    flags = 0 if case_sensitive else re.IGNORECASE
    regex = ".*".join(re.escape(p) for p in pattern.split("*"))
    return re.fullmatch(regex, text, flags | re.DOTALL) is not None


def test_wildcards_agree_with_a_glob_on_every_short_case() -> None:
    texts = ["".join(t) for n in range(6) for t in itertools.product("ab", repeat=n)]
    patterns = ["".join(p) for n in range(6) for p in itertools.product("ab*", repeat=n)]
    for pattern, text in itertools.product(patterns, texts):
        assert Wildcard.parse(pattern).matches(text) == _reference(pattern, text), \
            (pattern, text)


def test_wildcards_agree_with_a_glob_on_random_cases() -> None:
    chance = random.Random(15)
    for _ in range(3000):
        text = "".join(chance.choice("aAb-.") for _ in range(chance.randrange(12)))
        pattern = "".join(chance.choice("aAb*") for _ in range(chance.randrange(8)))
        for case_sensitive in (True, False):
            assert Wildcard.parse(pattern, case_sensitive=case_sensitive).matches(text) == \
                _reference(pattern, text, case_sensitive=case_sensitive), (pattern, text)


def test_names_and_searches_match_as_before() -> None:
    vms = [Named("web1"), Named("web2", "front"), Named("db"), Named("Web3")]
    found = search.parse("name=web*").apply(vms, FIELDS)
    assert [v.name for v in found] == ["web1", "web2"]
    found = search.parse("name=web*").apply(vms, FIELDS, case_sensitive=False)
    assert [v.name for v in found] == ["web1", "web2", "Web3"]
    found = search.parse("name!=*b* or description=fr*t").apply(vms, FIELDS)
    assert [v.name for v in found] == ["web2"]
    assert search.parse('name="db"').apply(vms, FIELDS) == [vms[2]]


def test_the_worst_wildcard_search_ends() -> None:
    """A backtracking regex takes centuries over this (each wildcard multiplies its time by
    about the name's length); the linear match takes microseconds. Run in a thread so a
    regression fails here instead of hanging the suite."""
    pattern = "*a" * (search.MAX_WILDCARDS - 1) + "*b"
    vms = [Named("a" * 64) for _ in range(500)]
    found: list[list[Named]] = []
    worker = threading.Thread(target=lambda: found.append(
        search.parse(f"name={pattern}").apply(vms, FIELDS)), daemon=True)
    worker.start()
    worker.join(30)
    assert found == [[]], "the search did not end"


@pytest.mark.parametrize(("text", "words"), [
    ("name=" + "x" * search.MAX_LENGTH, "characters; the limit"),
    (" or ".join(["name=x"] * (search.MAX_CONDITIONS + 1)), "conditions; the limit"),
    ("name=" + "*x" * (search.MAX_WILDCARDS + 1), "wildcards (*); the limit"),
])
def test_searches_beyond_the_bounds_are_refused(text: str, words: str) -> None:
    with pytest.raises(SearchTooComplex) as refused:
        search.parse(text)
    assert words in refused.value.detail
    assert refused.value.status == 400
