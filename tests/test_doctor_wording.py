"""`doctor` speaks about connections, not jobs: no "the job is retried" where there is no
job, no doubled full stops, no API operation names — checked against real refused ports."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from shopodoo_console import secrets
from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.config import Paths
from shopodoo_console.explain import for_a_poll, outside_a_job


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: connection refused


def test_outside_a_job_drops_job_talk_operations_and_double_stops() -> None:
    cause = Cause(
        "shopify.unavailable",
        missing="acme.myshopify.com did not answer AccessScopes after 5 tries.",
    )
    assert outside_a_job(cause) == (
        "acme.myshopify.com did not answer after 5 tries. Check the network, then run the "
        "check again."
    )
    assert outside_a_job(Cause("odoo.access_denied", missing="login refused")) == (
        "login refused. Reconnect Odoo: `shopodoo connect odoo`."
    )


def test_a_failing_poll_reads_as_a_poll_not_a_job() -> None:
    cause = Cause(
        "shopify.unavailable",
        missing="acme.myshopify.com did not answer OrdersUpdatedSince after 5 tries.",
    )
    assert for_a_poll(cause) == (
        "acme.myshopify.com did not answer after 5 tries. Check the network; the poll is "
        "tried again on its own."
    )
    assert for_a_poll(Cause("odoo.access_denied", missing="login refused")) == (
        "login refused. Reconnect Odoo: `shopodoo connect odoo`."
    )


def test_doctor_against_unreachable_systems_reads_cleanly(isolated_home: Path, capsys) -> None:
    port = closed_port()
    paths = Paths.discover()
    paths.ensure()
    paths.config_file.write_text(
        f'[odoo]\nurl = "http://127.0.0.1:{port}"\ndatabase = "d"\nlogin = "l"\n\n'
        f'[[shops]]\ndomain = "x.myshopify.com"\nbase_url = "http://127.0.0.1:{port}"\n'
    )
    secrets.set_secret("shopify:x.myshopify.com", "shpat_x")
    secrets.set_secret(f"odoo:l@http://127.0.0.1:{port}/d", "key")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    failing = [line for line in out.splitlines() if line.startswith("[FAIL]")]
    assert len(failing) == 2, out
    for line in failing:
        assert ".." not in line and "job" not in line, line
        assert not re.search(r"\b[A-Z][a-z]+[A-Z][a-z]+\w*\b(?!\))", line.split(":", 1)[1]), line
        assert line.endswith("then run the check again."), line
