"""Odoo domains: parse the prefix notation and evaluate it against rows (odoo.md §4).

Supported: ``&``, ``|``, ``!`` (implicit ``&`` between terms), ``(1, '=', 1)`` / ``(0, '=', 1)``,
dotted paths through many2one fields, and the operators ``= != <> < <= > >= in not in like
not like ilike not ilike =like =ilike =? child_of parent_of``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from .errors import PyError

Node = tuple[Any, ...]
TRUE: Node = ("true",)
FALSE: Node = ("false",)
OPERATORS = frozenset(
    [
        "=",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not_in",
        "like",
        "not_like",
        "ilike",
        "not_ilike",
        "=like",
        "=ilike",
        "=?",
        "child_of",
        "parent_of",
    ]
)


def parse(domain: Sequence[Any] | None) -> Node:
    """Turn a prefix-notation domain into a tree; raises ValueError-like PyError if malformed."""
    items = list(domain or [])
    pos = 0

    def term() -> Node:
        nonlocal pos
        if pos >= len(items):
            raise PyError("ValueError", f"Invalid domain: {domain!r}")
        tok = items[pos]
        pos += 1
        if tok == "&":
            return ("&", term(), term())
        if tok == "|":
            return ("|", term(), term())
        if tok == "!":
            return ("!", term())
        if isinstance(tok, list | tuple) and len(tok) == 3:
            left, op, right = tok
            if left in (1, True) and op == "=" and right == 1:
                return TRUE
            if left in (0, False) and op == "=" and right == 1:
                return FALSE
            if not isinstance(left, str) or op.replace(" ", "_") not in OPERATORS:
                raise PyError("ValueError", f"Invalid leaf {list(tok)!r}")
            if op in ("in", "not in") and isinstance(right, list | tuple):
                right = _Members(right)
            return ("leaf", left, op.replace("<>", "!="), right)
        raise PyError("ValueError", f"Invalid leaf {tok!r}")

    terms = []
    while pos < len(items):
        terms.append(term())
    if not terms:
        return TRUE
    node = terms[-1]
    for t in reversed(terms[:-1]):
        node = ("&", t, node)
    return node


class _Members(tuple):  # type: ignore[type-arg]
    """The values of an ``in`` leaf: still a tuple, but membership is a set lookup (a leaf
    with 500 values is tested against every row of a search)."""

    _set: frozenset[Any] | None

    def __new__(cls, values: Sequence[Any]) -> _Members:
        members = super().__new__(cls, values)
        try:
            members._set = frozenset(values)
        except TypeError:  # unhashable values: plain tuple membership
            members._set = None
        return members

    def __contains__(self, value: object) -> bool:
        if self._set is not None:
            try:
                return value in self._set
            except TypeError:
                return False
        return tuple.__contains__(self, value)


def required_leaves(node: Node) -> list[Node]:
    """The leaves every matching row must satisfy (those under top-level ``&`` only)."""
    if node[0] == "leaf":
        return [node]
    if node[0] == "&":
        return required_leaves(node[1]) + required_leaves(node[2])
    return []


@lru_cache(maxsize=512)
def _like(pattern: str, *, anchored: bool, ci: bool) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    body = "".join(out)
    if not anchored:
        body = ".*" + body + ".*"
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ci else 0))


def _empty(value: Any) -> bool:
    return value is None or value is False or value == [] or value == ""


def _compare_many(value: Any, op: str, right: Any) -> bool:
    """An x2many leaf: ``=``/``in`` match any shared id (``False``/``[]``: none at all)."""
    ids = set(value or [])
    if op in ("=", "in"):
        wanted = set(right if isinstance(right, list | tuple) else [right])
        if right is False or right == []:
            return not ids
        return bool(ids & wanted)
    if op in ("!=", "not in"):
        return not compare(value, "in" if op == "not in" else "=", right, many=True)
    raise PyError("ValueError", f"Operator {op!r} not supported on x2many fields")


def _equal(value: Any, op: str, right: Any) -> bool:
    """``= False`` (or ``None``) matches an unset value, as in Odoo."""
    if right is False or right is None:
        return _empty(value)
    return value == right


def _not_equal(value: Any, op: str, right: Any) -> bool:
    return not _equal(value, "=", right)


def _member(value: Any, op: str, right: Any) -> bool:
    """``in``/``not in`` need a list; ``False`` in it matches an unset value."""
    if not isinstance(right, list | tuple):
        raise PyError("ValueError", f"The domain term '{op}' needs a list, not {right!r}")
    hit = value in right or (_empty(value) and False in right)
    return hit if op == "in" else not hit


def _like_match(value: Any, op: str, right: Any) -> bool:
    """SQL LIKE patterns (``=`` prefix: anchored; ``i``: any case); ``like False`` asks
    whether the value is set at all."""
    negative = op.startswith("not ")
    base = op.removeprefix("not ")
    if right is False or right is None:
        return (not _empty(value)) if not negative else _empty(value)
    if _empty(value):
        return negative
    pat = _like(str(right), anchored=base.startswith("="), ci="ilike" in base)
    hit = pat.fullmatch(str(value)) is not None
    return not hit if negative else hit


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _ordered(value: Any, op: str, right: Any) -> bool:
    """``< <= > >=``: an unset value never matches, nor do values that do not compare."""
    if _empty(value) and not isinstance(value, int | float):
        return False
    if value is None or value is False:
        return False
    test = _ORDERINGS.get(op)
    if test is None:
        raise PyError("ValueError", f"Invalid operator {op!r}")
    try:
        return test(value, right)
    except TypeError:
        return False


_SCALAR_TESTS: dict[str, Callable[[Any, str, Any], bool]] = {
    "=": _equal,
    "!=": _not_equal,
    "in": _member,
    "not in": _member,
    **{op: _like_match for op in ("like", "ilike", "=like", "=ilike", "not like", "not ilike")},
}


def compare(value: Any, op: str, right: Any, *, many: bool = False) -> bool:
    """One leaf's test for a single stored value (``many``: value is a list of ids)."""
    if op == "=?":
        return True if _empty(right) else compare(value, "=", right, many=many)
    if many:
        return _compare_many(value, op, right)
    return _SCALAR_TESTS.get(op, _ordered)(value, op, right)


Resolver = Callable[[dict[str, Any], str, str, Any], bool]


def evaluate(node: Node, row: dict[str, Any], leaf: Resolver) -> bool:
    """Evaluate a parsed domain on one row; ``leaf(row, path, op, value)`` tests one leaf."""
    kind = node[0]
    if kind == "leaf":
        return leaf(row, node[1], node[2], node[3])
    if kind == "&":
        return evaluate(node[1], row, leaf) and evaluate(node[2], row, leaf)
    if kind == "|":
        return evaluate(node[1], row, leaf) or evaluate(node[2], row, leaf)
    if kind == "!":
        return not evaluate(node[1], row, leaf)
    return kind == "true"
