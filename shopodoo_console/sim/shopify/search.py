"""Shopify's search syntax for ``query:`` arguments (shopify.md §7.1-7.2, §5.3).

Supported: ``field:value`` with ``:``, ``:<``, ``:<=``, ``:>``, ``:>=``; quoted values; ``AND``
(also implicit), ``OR``, ``NOT``/``-`` and parentheses; free words. Faithful quirks:

* an **unquoted** value stops at the next ``:``, and the rest becomes a term of its own, so
  ``updated_at:>=2026-01-01T00:00:00Z`` means ``>= 2026-01-01T00`` in the shop's time zone plus
  a bogus term ``00:00Z`` that draws an ``invalid_field`` warning;
* a field the connection does not know is ignored (it matches everything) with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

OPS = (">=", "<=", ">", "<")
INVALID_FIELD = {"message": "Invalid search field for this query.", "code": "invalid_field"}


@dataclass(frozen=True)
class Term:
    field: str | None  # None for a free word
    op: str  # ":" (match) or one of OPS
    value: str


@dataclass
class Node:
    kind: str  # "and" | "or" | "not" | "term"
    children: list[Node] = field(default_factory=list)
    term: Term | None = None


class SearchError(ValueError):
    pass


def _lex(text: str) -> list[Any]:
    tokens: list[Any] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            tokens.append(ch)
            i += 1
            continue
        if ch == "-" and i + 1 < n and not text[i + 1].isspace():
            tokens.append("NOT")
            i += 1
            continue
        # a word, possibly field:op value
        m = re.match(r"[A-Za-z0-9_.]+(?=:)", text[i:])
        if m:
            name = m.group(0)
            i += len(name) + 1
            op = ":"
            for candidate in OPS:
                if text.startswith(candidate, i):
                    op, i = candidate, i + len(candidate)
                    break
            value, i = _value(text, i)
            tokens.append(Term(name, op, value))
            if i < n and text[i] == ":":  # an unquoted value was cut at a colon (§7.2)
                i += 1
            continue
        value, i = _value(text, i)
        if i < n and text[i] == ":":
            i += 1
        if value in ("AND", "OR", "NOT"):
            tokens.append(value)
        elif value:
            tokens.append(Term(None, ":", value))
    return tokens


def _value(text: str, i: int) -> tuple[str, int]:
    if i < len(text) and text[i] in "'\"":
        quote = text[i]
        end = text.find(quote, i + 1)
        if end < 0:
            raise SearchError("unterminated quote")
        return text[i + 1 : end], end + 1
    m = re.match(r"[^\s():]*", text[i:])
    value = m.group(0) if m else ""
    return value, i + len(value)


def parse(text: str | None) -> Node:
    """Parse a search string into a tree; empty means "match everything"."""
    tokens = _lex(text or "")
    pos = 0

    def peek() -> Any:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> Any:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expr() -> Node:
        parts = [conj()]
        while peek() == "OR":
            take()
            parts.append(conj())
        return parts[0] if len(parts) == 1 else Node("or", parts)

    def conj() -> Node:
        parts = [unary()]
        while peek() not in (None, ")", "OR"):
            if peek() == "AND":
                take()
                continue
            parts.append(unary())
        return parts[0] if len(parts) == 1 else Node("and", parts)

    def unary() -> Node:
        token = take()
        if token == "NOT":
            return Node("not", [unary()])
        if token == "(":
            inner = expr()
            if peek() == ")":
                take()
            return inner
        if isinstance(token, Term):
            return Node("term", term=token)
        return Node("and")  # a stray keyword or parenthesis: matches everything

    if not tokens:
        return Node("and")
    tree = expr()
    while pos < len(tokens):  # unbalanced ")": keep the rest as further AND terms
        take()
    return tree


def terms(tree: Node) -> list[Term]:
    if tree.kind == "term":
        assert tree.term is not None
        return [tree.term]
    return [t for child in tree.children for t in terms(child)]


def parse_time(value: str, shop_tz: timezone) -> tuple[datetime, timedelta]:
    """A search time value and its precision: full timestamps, a date, a date and hour."""
    if value == "now":
        return datetime.now(UTC), timedelta(seconds=1)
    return _parse_fixed_time(value, shop_tz)


@lru_cache(maxsize=1024)
def _parse_fixed_time(value: str, shop_tz: timezone) -> tuple[datetime, timedelta]:
    """:func:`parse_time` for anything but ``now`` (cached: a search tests every record)."""
    text = value.replace("Z", "+00:00")
    for fmt, step in (
        ("%Y-%m-%dT%H:%M:%S%z", timedelta(seconds=1)),
        ("%Y-%m-%dT%H:%M:%S", timedelta(seconds=1)),
        ("%Y-%m-%dT%H:%M%z", timedelta(minutes=1)),
        ("%Y-%m-%dT%H", timedelta(hours=1)),
        ("%Y-%m-%d", timedelta(days=1)),
        ("%Y-%m", timedelta(days=31)),
        ("%Y", timedelta(days=366)),
    ):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=shop_tz)
        return parsed, step
    raise SearchError(f"invalid time {value!r}")


Matcher = Callable[[Mapping[str, Any], Term], bool]


@dataclass
class Outcome:
    predicate: Callable[[Mapping[str, Any]], bool]
    warnings: list[dict[str, str]]
    parsed: dict[str, Any]


def compile_query(
    text: str | None, fields: Mapping[str, Matcher], shop_tz: timezone = UTC
) -> Outcome:
    """Compile a query for one connection whose known fields are ``fields``."""
    tree = parse(text)
    warnings: list[dict[str, str]] = []
    for term in terms(tree):
        if term.field is not None and term.field not in fields:
            warnings.append({"field": term.field, **INVALID_FIELD})

    def check(node: Node, record: Mapping[str, Any]) -> bool:
        if node.kind == "and":
            return all(check(c, record) for c in node.children)
        if node.kind == "or":
            return any(check(c, record) for c in node.children)
        if node.kind == "not":
            return not check(node.children[0], record)
        term = node.term
        assert term is not None
        if term.field is None:
            return "*" in fields and fields["*"](record, term)
        matcher = fields.get(term.field)
        return True if matcher is None else matcher(record, term)

    def describe(node: Node) -> dict[str, Any]:
        if node.kind in ("and", "or"):
            return {node.kind: [describe(c) for c in node.children]}
        if node.kind == "not":
            return {"not": describe(node.children[0])}
        term = node.term
        assert term is not None
        if term.field in TIME_FIELDS and term.op != ":":
            key = {">": "range_gt", ">=": "range_gte", "<": "range_lt", "<=": "range_lte"}
            try:
                when, _ = parse_time(term.value, shop_tz)
                shown = when.isoformat()
            except SearchError:
                shown = term.value
            return {"field": term.field, key[term.op]: shown}
        return {"field": term.field or "default", "match_all": term.value}

    return Outcome(lambda record: check(tree, record), warnings, describe(tree))


TIME_FIELDS = {"updated_at", "created_at", "processed_at"}


def time_matcher(attribute: str, shop_tz: timezone) -> Matcher:
    """Compare a record's ISO timestamp attribute with a term's time value."""

    def match(record: Mapping[str, Any], term: Term) -> bool:
        raw = record.get(attribute)
        if raw is None:
            return False
        try:
            bound, step = parse_time(term.value, shop_tz)
        except SearchError:
            return False
        if isinstance(raw, str) and len(raw) == 20 and raw.endswith("Z"):
            # records keep UTC "YYYY-MM-DDTHH:MM:SSZ": compare text with text
            low, high = _utc_bounds(bound, step)
            op = term.op
            if op == ">=":
                return raw >= low
            if op == "<":
                return raw < low
            if op == ">":
                return raw >= high
            if op == "<=":
                return raw < high
            return low <= raw < high
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        return {
            ":": bound <= when < bound + step,
            ">": when >= bound + step,
            ">=": when >= bound,
            "<": when < bound,
            "<=": when < bound + step,
        }[term.op]

    return match


@lru_cache(maxsize=1024)
def _utc_bounds(bound: datetime, step: timedelta) -> tuple[str, str]:
    def text(when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return text(bound), text(bound + step)


def text_matcher(getter: Callable[[Mapping[str, Any]], Any]) -> Matcher:
    """Case-insensitive equality with a record value (or any value of a list)."""

    def match(record: Mapping[str, Any], term: Term) -> bool:
        value = getter(record)
        values = value if isinstance(value, list | tuple | set) else [value]
        wanted = term.value.lower()
        if term.op != ":":
            return False
        return any(v is not None and str(v).lower() == wanted for v in values)

    return match


def id_matcher(getter: Callable[[Mapping[str, Any]], int]) -> Matcher:
    """Numeric comparison on a legacy id (``id:>=123``)."""

    def match(record: Mapping[str, Any], term: Term) -> bool:
        try:
            bound = int(term.value.rsplit("/", 1)[-1])
        except ValueError:
            return False
        value = getter(record)
        return {
            ":": value == bound,
            ">": value > bound,
            ">=": value >= bound,
            "<": value < bound,
            "<=": value <= bound,
        }[term.op]

    return match
