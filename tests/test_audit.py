"""The reconciliation audit over real HTTP (Odoo 17 JSON-RPC, Odoo 19 JSON-2): nothing on a
clean world, every planted mismatch kind found, job state and cause for what is missing, paced
to at most half the Shopify budget with cheap reads only (issue 14)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from reconcile_support import SINCE, UNTIL, Setup, link_seeded, reconcile_world

from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.config import OdooConfig, ShopConfig
from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.poller import Poller
from shopodoo_console.engine.progress import Progress
from shopodoo_console.secrets import set_secret
from shopodoo_console.sim.mismatches import Mismatches, Planted
from shopodoo_console.sim.seed_orders import SeededOrder, synced_orders
from shopodoo_console.store import links
from shopodoo_console.store import reconcile as runs

CHEAP = {"OrdersForAudit", "OrdersCount", "AccessScopes"}


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Setup, list]]:
    with reconcile_world(tmp_path / "home", request.param) as s:
        seeded = synced_orders(s.world.shopify, s.world.odoo, 60, since=SINCE, until=UNTIL)
        link_seeded(s.console, seeded)
        yield s, seeded


def _plant(s: Setup, seeded: list[SeededOrder]) -> list[Planted]:
    planted = Mismatches(s.world.shopify, s.world.odoo).every_kind(seeded)
    for p in planted:
        if p.unlink:
            links.delete_link(s.console.store, s.console.shop_id, "order", p.unlink)
    return planted


def test_clean_world_has_no_finding_then_every_planted_kind_is_found(setup) -> None:
    s, seeded = setup
    progress: list[Progress] = []
    clean = s.reconcile.audit(s.domain, SINCE, UNTIL, on_progress=progress.append)
    assert clean.state == "done" and clean.orders == 60 and clean.odoo_orders == 60
    assert clean.counts == {} and runs.findings(s.console.store, clean.run_id) == []
    # A progress bar: every page reported, with a total and an ETA while it ran.
    assert progress[-1].done == 60 and progress[-1].total == 60
    assert any(p.eta is not None and p.done < 60 for p in progress)

    planted = _plant(s, seeded)
    s.world.shopify.counters.reset()
    result = s.reconcile.audit(s.domain, SINCE, UNTIL)
    found = runs.findings(s.console.store, result.run_id)
    by_order: dict[str, list] = {}
    for f in found:
        by_order.setdefault(f.shopify_id or "", []).append(f)
    for p in planted:
        kinds = [f.kind for f in by_order.get(p.shopify_gid or "", [])]
        assert kinds == [p.kind], (p, kinds)
        (finding,) = by_order[p.shopify_gid or ""]
        if p.kind == "amount":
            expected = {k: f"{v:.2f}" for k, v in p.expected.items()}
            assert finding.detail["differences"] == expected
        if p.kind == "state":
            assert p.detail in finding.detail["gaps"]
        if p.kind == "duplicate":
            assert set(p.odoo_ids) <= set(finding.odoo_ids)
        if p.kind == "unlinked":
            assert finding.odoo_ids == p.odoo_ids
    assert len(found) == len(planted)  # and nothing else
    # Cheap reads only, and never more than half the budget.
    assert set(s.world.shopify.counters.operations) <= CHEAP
    assert result.budget <= 0.5
    assert result.first_finding is not None


def test_missing_order_names_its_job_state_and_cause_or_never_seen(setup) -> None:
    s, seeded = setup
    mm = Mismatches(s.world.shopify, s.world.odoo)
    waiting = mm.missing(created_at=seeded[10].created_at)
    unseen = mm.missing(created_at=seeded[20].created_at)
    queue = s.console.engine.queue
    queue.enqueue(
        s.console.shop_id,
        s.domain,
        "orders",
        [Change(waiting.shopify_gid or "", "v1", label=f"Shopify order {waiting.shopify_name}")],
    )
    job = queue.claim("test-worker", 30)
    assert job is not None
    cause = Cause(
        code="mapping.product_missing", missing="no Odoo product for SKU 'MUG-9'", record="x"
    )
    queue.finish_failed(job.claim, cause)
    # The poll has moved past every order: one never seen is outside the cursor.
    Poller(queue).set_position(s.console.shop_id, "orders", (UNTIL + timedelta(days=1)).isoformat())
    result = s.reconcile.audit(s.domain, SINCE, UNTIL)
    found = {f.shopify_id: f for f in runs.findings(s.console.store, result.run_id)}
    assert result.counts == {"missing": 2}
    first = found[waiting.shopify_gid]
    assert first.job_id == job.id and first.detail["job_state"] == "needs_attention"
    assert first.detail["cause"] == "mapping.product_missing"
    assert f"job {job.id} is needs attention (mapping.product_missing: no Odoo product" in (
        first.summary
    )
    second = found[unseen.shopify_gid]
    assert second.job_id is None and second.detail["job_state"] == "never seen"
    assert "outside what the poll looked at; a backfill brings it in" in second.summary


def test_cli_audit_json_csv_and_exit_codes(tmp_path: Path, capsys) -> None:
    from shopodoo_console import demo
    from shopodoo_console.config import Paths

    with reconcile_world(tmp_path / "world-home", 19) as s:
        seeded = synced_orders(s.world.shopify, s.world.odoo, 30, since=SINCE, until=UNTIL)
        facts = s.console.facts
        demo.write_config(Paths.discover(), facts)
        set_secret(ShopConfig(domain=s.domain).secret_name, facts["shop_token"])
        odoo = OdooConfig(facts["odoo_url"], facts["odoo_database"], facts["odoo_login"])
        set_secret(odoo.secret_name, facts["odoo_api_key"])
        argv = ["audit", "--shop", s.domain, "--since", SINCE.isoformat()]
        argv += ["--until", UNTIL.isoformat(), "--json"]
        # No links in this home's database: every sale order is "unlinked".
        code = main(argv)
        out = json.loads(capsys.readouterr().out)
        assert code == 1 and out["counts"] == {"unlinked": 30}
        assert out["shopify_budget_share"] <= 0.5 and out["orders"] == 30
        home = Paths.discover()
        from shopodoo_console.store.db import Store

        store = Store(home.database_file)
        shop_id = store.shop_id(s.domain)
        assert shop_id is not None
        for order in seeded:
            assert order.odoo_id is not None
            links.save_link(store, shop_id, "order", order.gid, "sale.order", order.odoo_id)
        store.close()
        code = main(argv)
        assert code == 0 and json.loads(capsys.readouterr().out)["counts"] == {}
        planted = Mismatches(s.world.shopify, s.world.odoo).amount(seeded[4].gid, "shipping")
        target = tmp_path / "finance.csv"
        code = main([*argv[:-1], "--csv", str(target)])
        out = capsys.readouterr().out
        assert code == 1
        assert "[amount] S" in out
        assert "shipping +5.00" in out and f"/web#id={planted.odoo_ids[0]}&model=sale.order" in out
        rows = list(csv.DictReader(target.open(encoding="utf-8-sig")))
        assert len(rows) == 1 and rows[0]["kind"] == "amount"
        assert rows[0]["shipping_difference"] == "5.00"
        assert rows[0]["shopify_order"] == planted.shopify_name
        assert main(["audit", "--shop", "nope.myshopify.com", "--since", "30d"]) == 2
        assert "not in the config" in capsys.readouterr().err
        assert main(["audit", "--shop", s.domain, "--since", "last tuesday"]) == 2
        assert main(["audit", "--shop", s.domain, "--since", "30d", "--share", "0.9"]) == 2
