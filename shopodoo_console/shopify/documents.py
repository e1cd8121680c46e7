"""The GraphQL documents the client sends, one operation per ``queries/<Name>.graphql`` file.

Fragments live in ``queries/fragments/<FragmentName>.graphql`` and are appended to every
document that spreads them (transitively), so each sent document is self-contained and can be
validated on its own against the real Admin schema (shopify.md §10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_OPERATION = re.compile(r"^\s*(query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    """One operation ready to send: ``name`` is also its GraphQL ``operationName``."""

    name: str
    text: str
    is_mutation: bool


def _read(*parts: str) -> str:
    return resources.files(__package__).joinpath("queries", *parts).read_text(encoding="utf-8")


def _fragment_names(text: str) -> list[str]:
    return [name for name in _SPREAD.findall(text) if name != "on"]


@cache
def load(name: str) -> Document:
    """The operation ``name`` with every fragment it needs appended."""
    text = _read(f"{name}.graphql")
    match = _OPERATION.search(text)
    if match is None or match.group(2) != name:
        raise ValueError(f"queries/{name}.graphql must define the operation {name!r}")
    parts, seen, pending = [text], set(), _fragment_names(text)
    while pending:
        fragment = pending.pop()
        if fragment in seen:
            continue
        seen.add(fragment)
        body = _read("fragments", f"{fragment}.graphql")
        parts.append(body)
        pending.extend(_fragment_names(body))
    return Document(name=name, text="\n".join(parts), is_mutation=match.group(1) == "mutation")


def names() -> list[str]:
    """Every operation shipped in ``queries/`` (for validation tests)."""
    folder = resources.files(__package__).joinpath("queries")
    return sorted(
        entry.name.removesuffix(".graphql")
        for entry in folder.iterdir()
        if entry.name.endswith(".graphql")
    )
