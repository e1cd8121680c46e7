"""Deterministic job keys (DESIGN §3.1).

A key says what a job is about — shop, flow, source record, source version — and nothing
else: no clock, no random id. The same sighting always yields the same key, so the UNIQUE
column absorbs repeats. Each part is escaped so that no two different tuples can ever
produce the same string (``("a:b", "c")`` vs ``("a", "b:c")``).
"""

from __future__ import annotations

from typing import NamedTuple

SEPARATOR = ":"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(SEPARATOR, "%3A")


def _unescape(part: str) -> str:
    return part.replace("%3A", SEPARATOR).replace("%25", "%")


class KeyParts(NamedTuple):
    shop: str
    flow: str
    source_id: str
    version: str


def job_key(shop: str, flow: str, source_id: str, version: str) -> str:
    """``"{shop}:{flow}:{source id}:{version}"`` with each part escaped."""
    for name, value in (("shop", shop), ("flow", flow), ("source_id", source_id)):
        if not value:
            raise ValueError(f"a job key needs a non-empty {name}")
    return SEPARATOR.join(_escape(str(p)) for p in (shop, flow, source_id, version))


def record_prefix(shop: str, flow: str) -> str:
    """``"{shop}:{flow}:"`` escaped: every key of that shop and flow starts with it."""
    for name, value in (("shop", shop), ("flow", flow)):
        if not value:
            raise ValueError(f"a job key needs a non-empty {name}")
    return f"{_escape(shop)}{SEPARATOR}{_escape(flow)}{SEPARATOR}"


def key_after(prefix: str, source_id: str, version: str) -> str:
    """:func:`job_key` for a :func:`record_prefix` computed once (a whole poll page)."""
    if not source_id:
        raise ValueError("a job key needs a non-empty source_id")
    # _escape, inlined: a poll page builds 250 keys
    source = source_id.replace("%", "%25").replace(SEPARATOR, "%3A")
    at = str(version).replace("%", "%25").replace(SEPARATOR, "%3A")
    return f"{prefix}{source}{SEPARATOR}{at}"


def parse_key(key: str) -> KeyParts:
    """Split a key back into its parts (the inverse of :func:`job_key`)."""
    parts = key.split(SEPARATOR)
    if len(parts) != 4:
        raise ValueError(f"not a job key: {key!r}")
    return KeyParts(*(_unescape(p) for p in parts))
