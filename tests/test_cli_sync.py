"""`sync --once` tells the truth in its exit code and stops cleanly on SIGTERM; `cursors
rewind` goes back safely and refuses what would skip changes (docs/cli.md)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from support import SHOP, ScriptedFlow, changes, make_config

from shopodoo_console import cli
from shopodoo_console.config import Paths
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import FlowRegistry, JobContext, Page
from shopodoo_console.store.db import Store


def engine_with(monkeypatch: pytest.MonkeyPatch, flow: ScriptedFlow) -> tuple[Engine, Store]:
    paths = Paths.discover()
    paths.ensure()
    store = Store(paths.database_file)
    engine = Engine(store, make_config(paths.config_dir), FlowRegistry([flow]))
    monkeypatch.setattr(cli, "_engine", lambda _paths: (engine, store))
    return engine, store


def states(store: Store) -> dict[str, int]:
    return dict(store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall())


def test_all_done_exits_0(monkeypatch, capsys) -> None:
    _, store = engine_with(monkeypatch, ScriptedFlow([Page(changes(3), cursor="c1")]))
    assert cli.main(["sync", "--once"]) == 0
    assert states(store) == {"done": 3}


def test_jobs_left_retrying_exit_1(monkeypatch, capsys) -> None:
    flow = ScriptedFlow([Page(changes(4, do="fail:odoo.unreachable"), cursor="c1")])
    _, store = engine_with(monkeypatch, flow)
    assert cli.main(["sync", "--once"]) == 1
    out = capsys.readouterr().out
    assert "worked 4 job(s): 4 failed" in out
    assert "4 of them did not finish" in out
    assert states(store) == {"retrying": 4}  # not "needs attention", yet not ok either


def test_a_failed_poll_exits_1(monkeypatch, capsys) -> None:
    class BrokenPoll(ScriptedFlow):
        def poll(self, shop: Any, since: str | None) -> Any:
            raise RuntimeError("connection refused")

    engine_with(monkeypatch, BrokenPoll())
    assert cli.main(["sync", "--once"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_sigterm_stops_like_ctrl_c_releasing_leases(monkeypatch, capsys) -> None:
    flow = ScriptedFlow([Page(changes(6), cursor="c1")])
    engine, store = engine_with(monkeypatch, flow)
    sent: list[int] = []

    def terminate(ctx: JobContext) -> None:
        if not sent:
            sent.append(ctx.job.id)
            os.kill(os.getpid(), signal.SIGTERM)  # as `systemctl stop` would

    flow.on_handle = terminate
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["sync", "--once"]) == 1
    assert signal.getsignal(signal.SIGTERM) == before  # handler restored
    assert "stopped by SIGTERM; jobs in flight finished" in capsys.readouterr().err
    found = states(store)
    assert "running" not in found  # nothing left leased by a stopped process
    assert found.get("done", 0) >= 1 and sum(found.values()) == 6
    assert engine.lease.holder() is None  # the scheduler lease is free for the next run
    leased = store.execute("SELECT count(*) FROM job WHERE lease_owner IS NOT NULL").fetchone()
    assert leased[0] == 0


# ---------------------------------------------------------------- cursors rewind


@pytest.fixture
def configured(isolated_home: Path) -> Paths:
    paths = Paths.discover()
    paths.ensure()
    paths.config_file.write_text(
        f'[[shops]]\ndomain = "{SHOP}"\n[shops.flows]\norders = "review"\n', encoding="utf-8"
    )
    return paths


def rewind(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = cli.main(["cursors", "rewind", SHOP, *args])
    out, err = capsys.readouterr()
    return code, out, err


def position(paths: Paths) -> str | None:
    store = Store(paths.database_file)
    try:
        row = store.execute("SELECT position FROM cursor").fetchone()
        return row[0] if row else None
    finally:
        store.close()


def test_rewind_works_for_a_configured_shop_before_its_first_sync(configured, capsys) -> None:
    code, out, _ = rewind(capsys, "orders", "--to", "2026-01-01T00:00:00Z")
    assert code == 0 and "cursor moved from start to 2026-01-01T00:00:00Z" in out
    assert position(configured) == "2026-01-01T00:00:00Z"
    code, out, _ = rewind(capsys, "orders", "--to", "2025-06-01T12:00:00+02:00")
    assert code == 0 and position(configured) == "2025-06-01T10:00:00Z"
    assert "counted, not re-done" in out


def test_rewind_refuses_going_forward_or_into_the_future_without_force(configured, capsys) -> None:
    assert rewind(capsys, "orders", "--to", "2025-01-01")[0] == 0
    code, _, err = rewind(capsys, "orders", "--to", "2025-06-01")
    assert code == 2 and "after the current position" in err and "--force" in err
    assert position(configured) == "2025-01-01T00:00:00Z"
    code, _, err = rewind(capsys, "orders", "--to", "2999-01-01")
    assert code == 2 and "in the future" in err
    code, out, _ = rewind(capsys, "orders", "--to", "2025-06-01", "--force")
    assert code == 0 and "not polled again" in out
    assert position(configured) == "2025-06-01T00:00:00Z"


def test_rewind_refuses_unknown_streams_and_times_shopify_cannot_take(configured, capsys) -> None:
    code, _, err = rewind(capsys, "ordres", "--to", "2025-01-01")
    assert code == 2 and "unknown stream 'ordres' (streams: fulfillments, orders, stock)" in err
    code, _, err = rewind(capsys, "orders", "--to", "0001-01-01T00:00:00Z")
    assert code == 2 and "before 2006" in err
    assert position(configured) is None
