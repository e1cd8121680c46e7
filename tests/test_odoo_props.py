"""Property tests: the simulator's domain algebra and load() idempotence; the client's
load payloads; no API key anywhere a person or a log can see."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from odoo_helpers import client_for

from shopodoo_console.causes import CauseError
from shopodoo_console.odoo.stamps import load_payload
from shopodoo_console.sim.odoo import OdooSimulator

SIM = OdooSimulator(17)  # in-process only: no server needed for ORM properties
PARTNERS = SIM.env["res.partner"]
ALL = set(PARTNERS.search([]))

leaf = st.one_of(
    st.tuples(
        st.just("name"),
        st.sampled_from(["ilike", "=like", "not ilike", "=", "!="]),
        st.sampled_from(["a", "J%", "%e", "Jane Doe", "", "x"]),
    ),
    st.tuples(
        st.just("id"),
        st.sampled_from(["<", ">=", "in", "not in", "="]),
        st.sampled_from([5, 20, [1, 2, 30], []]),
    ).filter(lambda t: isinstance(t[2], list) == (t[1] in ("in", "not in"))),
    st.tuples(st.just("country_id"), st.sampled_from(["=", "!="]), st.sampled_from([False, 1, 2])),
    st.tuples(
        st.just("country_id.code"),
        st.sampled_from(["=", "in"]),
        st.sampled_from(["BE", ["BE", "FR"]]),
    ).filter(lambda t: isinstance(t[2], list) == (t[1] == "in")),
)


def domains(depth: int = 3) -> st.SearchStrategy[list[Any]]:
    base = leaf.map(lambda t: [t])
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda p: ["&", *p[0], *p[1]]),
            st.tuples(inner, inner).map(lambda p: ["|", *p[0], *p[1]]),
            inner.map(lambda d: ["!", *d]),
        ),
        max_leaves=depth * 2,
    )


def ids(domain: list[Any]) -> set[int]:
    return set(PARTNERS.search(domain))


@settings(max_examples=60, deadline=None)
@given(domains(), domains())
def test_domain_operators_are_set_algebra(a: list[Any], b: list[Any]) -> None:
    assert ids(["&", *a, *b]) == ids(a) & ids(b)
    assert ids(["|", *a, *b]) == ids(a) | ids(b)
    assert ids(["!", *a]) == ALL - ids(a)
    assert ids([*a, *b]) == ids(a) & ids(b)  # implicit &


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=80), max_size=8))
def test_in_is_a_union_of_equalities(values: list[int]) -> None:
    union: set[int] = set()
    for v in values:
        union |= ids([("id", "=", v)])
    assert ids([("id", "in", values)]) == union


names = st.text(alphabet="abcdefghij_-0123456789", min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(names, st.text(min_size=1, max_size=20).filter(str.strip)),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_stamped_load_is_idempotent(rows: list[tuple[str, str]]) -> None:
    env = SIM.env.with_context(mode="update", noupdate=True)
    model = env["res.partner"]
    data = [[f"shopodoo.prop_{n}", label] for n, label in rows]
    first = model.load(["id", "name"], data)
    count = PARTNERS.search_count([])
    names_before = PARTNERS.read(first["ids"], ["name"])
    second = model.load(["id", "name"], [[x, f"{y} changed"] for x, y in data])
    assert first["ids"] == second["ids"]
    assert PARTNERS.search_count([]) == count
    assert PARTNERS.read(first["ids"], ["name"]) == names_before  # noupdate: left alone


def _fields_of(model: str) -> dict[str, dict[str, Any]]:
    return SIM.env[model].fields_get()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.floats(0.5, 20, allow_nan=False)), min_size=1, max_size=4
    )
)
def test_load_payload_round_trips_lines(lines: list[tuple[int, float]]) -> None:
    values = {
        "partner_id": 1,
        "client_order_ref": "#1",
        "order_line": [
            (0, 0, {"product_id": p, "product_uom_qty": q, "tax_id": [(6, 0, [1])]})
            for p, q in lines
        ],
    }
    fields, data = load_payload("sale.order", [("o", values)], _fields_of)
    assert data[0][0] == "shopodoo.o" and all(row[0] == "" for row in data[1:])
    assert len(data) == len(lines)
    out = SIM.env["sale.order"].load(fields, data)
    assert out["messages"] == [] and len(out["ids"]) == 1
    got = SIM.env["sale.order.line"].search_read(
        [("order_id", "=", out["ids"][0])], ["product_id", "product_uom_qty", "tax_id"]
    )
    assert [(r["product_id"][0], r["product_uom_qty"]) for r in got] == [
        (p, pytest.approx(q)) for p, q in lines
    ]
    assert all(r["tax_id"] == [1] for r in got)
    SIM.env["sale.order"].unlink(out["ids"])


def test_no_api_key_in_logs_errors_reprs_or_events(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG), OdooSimulator(19) as sim:
        for protocol in ("json2", "jsonrpc"):
            client = client_for(sim, protocol, on_event=lambda n, d: seen.append(f"{n} {d}"))
            client.connect()
            texts = [repr(client), repr(sim), str(client.__dict__.get("info"))]
            sim.faults.add(kind="drop", model="res.partner", method="create")
            sim.faults.add(
                kind="status", status=502, model="res.partner", method="search_read", times=None
            )
            for call in (
                lambda c=client: c.create("res.partner", {"name": "x"}),
                lambda c=client: c.search_read("res.partner"),
                lambda c=client: c.read("res.partner", [10**6]),
            ):
                with pytest.raises(CauseError) as info:
                    call()
                texts += [
                    str(info.value),
                    repr(info.value),
                    info.value.cause.to_json(),
                    info.value.cause.explain(),
                ]
            sim.faults.clear()
            bad = client_for(sim, protocol)
            sim.expire_api_key()
            with pytest.raises(CauseError) as info:
                bad.search_count("res.partner")
            texts += [str(info.value), info.value.cause.to_json()]
            blob = "\n".join(texts + seen + [caplog.text])
            assert sim.api_key not in blob
            assert sim.integration_user["password"] not in blob
            sim.security.credentials[sim.login].expired_keys.clear()
