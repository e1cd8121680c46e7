"""The first-month review: its figures, from a job history recorded through the real queue
(fixed clock), match a count made by hand (issue 14)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.config import Paths
from shopodoo_console.engine import mappings
from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.engine.review import build_review, review_json
from shopodoo_console.store.db import Store

HOUR = 3600.0
DAY = 86400.0
DOMAIN = "acme.myshopify.com"


@dataclass
class Clock:
    t: float

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class History:
    """Jobs driven through the queue as a worker and an operator would."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.queue = Queue(store, clock=clock, policy=RetryPolicy(base=1, cap=2))
        self.shop_id = store.sync_shop(DOMAIN, api_version="2026-07")
        self.n = 0

    def job(self) -> int:
        self.n += 1
        change = Change(f"gid://shopify/Order/{self.n}", "v1", label=f"Shopify order #{self.n}")
        (job_id,) = self.queue.enqueue(self.shop_id, DOMAIN, "orders", [change]).job_ids
        return job_id

    def claim(self, job_id: int, owner: str = "worker") -> Any:
        claimed = self.queue.claim(owner, 60)
        assert claimed is not None and claimed.id == job_id
        return claimed.claim

    def fail(self, job_id: int, code: str, **extra: object) -> None:
        claim = self.claim(job_id)
        cause = Cause(code=code, missing=f"{code} happened", record=f"job {job_id}", **extra)
        assert self.queue.finish_failed(claim, cause)
        self.clock.advance(10)  # past any backoff

    def done(self, job_id: int) -> None:
        claim = self.claim(job_id)
        assert self.queue.finish_done(claim, "ok")
        self.clock.advance(10)

    def conflict(self, job_id: int, field: str, code: str) -> None:
        self.store.audit(
            system="console",
            event="conflict",
            message="Not applied: edited in Odoo",
            job_id=job_id,
            shop_id=self.shop_id,
            at=self.clock(),
            data={"code": code, "model": "sale.order", "fields": [field]},
        )


def day(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d")


def record(store: Store, start: float) -> tuple[History, dict[str, object]]:
    """The recorded history; returns the counts made by hand alongside."""
    clock = Clock(start)
    h = History(store, clock)
    days: dict[tuple[str, str], int] = {}

    def failed(code: str) -> None:
        days[(day(clock()), code)] = days.get((day(clock()), code), 0) + 1

    # Day 0 — A: Odoo down twice, then done (2 retries); E: done at once; a person edits
    # the lines of both afterwards.
    a = h.job()
    for _ in range(2):
        failed("odoo.unreachable")
        h.fail(a, "odoo.unreachable")
    h.done(a)
    e = h.job()
    h.done(e)
    h.conflict(e, "order_line", "conflict.edited_in_odoo")
    h.conflict(a, "order_line", "conflict.edited_in_odoo")
    # Day 1 — B: unmapped SKU; the mapping is saved 2 h later, it runs (1 retry; waited 2 h).
    clock.advance(DAY)
    b = h.job()
    failed("mapping.product_missing")
    h.fail(b, "mapping.product_missing", blocked_on=("product:MUG-9",))
    clock.advance(2 * HOUR - 10)
    mappings.save_mapping(h.queue, h.shop_id, "product", "MUG-9", 42, label="Mug")
    h.done(b)
    h.conflict(b, "state", "conflict.order_locked")
    # Day 2 — C: refused by Odoo, resolved by hand after 1 h; D: bad payload, cancelled after
    # 30 min (0 retries each).
    clock.advance(DAY)
    c = h.job()
    failed("odoo.validation")
    h.fail(c, "odoo.validation")
    clock.advance(HOUR - 10)
    h.queue.resolve([c], reason="fixed in Odoo by hand")
    d = h.job()
    failed("data.invalid_payload")
    h.fail(d, "data.invalid_payload")
    clock.advance(30 * 60 - 10)
    h.queue.cancel([d], reason="test order")
    # Day 3 — F: waits for a mapping still; G: its worker died (lost), then done (1 retry).
    clock.advance(DAY)
    f = h.job()
    failed("mapping.product_missing")
    h.fail(f, "mapping.product_missing", blocked_on=("product:CAP-1",))
    g = h.job()
    dying = Queue(h.store, clock=clock)  # another process's queue: this one never expires its own
    lost = dying.claim("worker-that-dies", 60)
    assert lost is not None and lost.id == g
    clock.advance(120)
    failed("engine.lease_expired")
    assert h.queue.expire_leases() == 1
    h.done(g)
    # Day 4 — H: refused by Odoo, resolved 4 h later with the same reason as C.
    clock.advance(DAY)
    hh = h.job()
    failed("odoo.validation")
    h.fail(hh, "odoo.validation")
    clock.advance(4 * HOUR - 10)
    h.queue.resolve([hh], reason="fixed in Odoo by hand")
    by_hand = {
        "failures": [
            {"day": dd, "cause": code, "failed_attempts": n} for (dd, code), n in days.items()
        ],
        "retries": {"0": 5, "1": 2, "2": 1, "3": 0, "4": 0, "5+": 0},  # A 2; B, G 1; others 0
        "waits": [7200.0, 3600.0, 1800.0, 4 * HOUR],  # B requeue, C, D, H
        "by_action": {"requeue": 1, "resolve": 2, "cancel": 1},
        "closes": [
            ("resolve", "fixed in Odoo by hand", 2, [c, hh]),
            ("cancel", "test order", 1, [d]),
        ],
        "waiting": [f],
        "edits": [("order_line", 2, 2), ("state", 1, 1)],
        "jobs": 8,
    }
    return h, by_hand


def _sorted_failures(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["day"], r["cause"]))


@pytest.fixture
def recorded(isolated_home: Path) -> tuple[Store, float, dict]:
    paths = Paths.discover()
    paths.ensure()
    store = Store(paths.database_file)
    start = datetime.now().timestamp() - 6 * DAY
    _, by_hand = record(store, start)
    return store, start, by_hand


def test_review_figures_match_a_hand_count(recorded) -> None:
    store, start, by_hand = recorded
    review = build_review(store, since=start - HOUR)
    data = review_json(review)
    assert _sorted_failures(data["failures_by_day"]) == _sorted_failures(by_hand["failures"])
    assert data["retries_per_job"] == by_hand["retries"]
    waits = data["waits_for_a_person"]
    assert waits["count"] == len(by_hand["waits"])
    assert waits["median_seconds"] == pytest.approx((3600 + 7200) / 2)
    assert waits["longest_seconds"] == pytest.approx(4 * HOUR)
    assert waits["by_action"] == by_hand["by_action"]
    assert waits["waiting_now"] == 1
    assert [w["job_id"] for w in waits["longest_waiting"]] == by_hand["waiting"]
    closes = [(c["action"], c["reason"], c["count"], c["job_ids"]) for c in data["operator_closes"]]
    assert closes == [tuple(c) for c in by_hand["closes"]]
    edits = [(e["field"], e["times"], e["jobs"]) for e in data["edited_in_odoo"]]
    assert edits == by_hand["edits"]
    (mapping,) = data["mappings_added"]
    assert (mapping["kind"], mapping["source_key"], mapping["jobs_requeued"]) == (
        "product",
        "MUG-9",
        1,
    )
    assert sum(data["jobs"].values()) == by_hand["jobs"]
    # A shorter period leaves the first days out.
    late = review_json(build_review(store, since=start + 3 * DAY - HOUR))
    assert {r["cause"] for r in late["failures_by_day"]} == {
        "mapping.product_missing",
        "engine.lease_expired",
        "odoo.validation",
    }
    assert late["waits_for_a_person"]["count"] == 1
    store.close()


def test_cli_review_prints_the_chart_and_the_same_figures(recorded, capsys) -> None:
    store, _, by_hand = recorded
    store.close()
    assert main(["review", "--since", "7d", "--json"]) == 1  # a job still waits for a person
    data = json.loads(capsys.readouterr().out)
    assert _sorted_failures(data["failures_by_day"]) == _sorted_failures(by_hand["failures"])
    assert main(["review", "--since", "7d", "--width", "80"]) == 1
    out = capsys.readouterr().out
    assert "Failed attempts per day" in out  # plotext's chart title
    assert "odoo.unreachable" in out and "█" in out
    assert "2× resolve: fixed in Odoo by hand" in out
    assert "sale.order.order_line" in out
    assert main(["review", "--since", "yesterday-ish"]) == 2


def test_review_of_an_unknown_shop_is_a_usage_error(isolated_home: Path, capsys) -> None:
    assert main(["review", "--shop", "nope.myshopify.com"]) == 2
    assert "no shop 'nope.myshopify.com'" in capsys.readouterr().err


def test_retry_buckets_cap_at_five(isolated_home: Path) -> None:
    store = Store(Path(isolated_home) / "r.db")
    h = History(store, Clock(datetime.now().timestamp() - DAY))
    job = h.job()
    for _ in range(6):
        h.fail(job, "odoo.unreachable")
        h.queue.retry([job])  # an operator keeps retrying (a fresh retry budget each time)
    h.done(job)
    buckets = review_json(build_review(store, since=0))["retries_per_job"]
    assert buckets == {"0": 0, "1": 0, "2": 0, "3": 0, "4": 0, "5+": 1}
    store.close()
