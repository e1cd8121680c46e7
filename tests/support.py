"""Shared test helpers: a store in a temp folder and a scriptable test flow.

The engine knows flows only through the protocol, so the tests register this flow: its
``poll`` returns whatever pages a test sets, and it handles each job as the job's payload
says (``{"do": "done" | "skip" | "fail:<cause code>" | "crash" | "block"}``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.config import Config, EngineConfig, ShopConfig
from shopodoo_console.engine.flows import (
    AwaitApproval,
    Change,
    Done,
    Failed,
    JobContext,
    Outcome,
    Page,
    ShopRef,
    Skipped,
)
from shopodoo_console.store.db import Store

SHOP = "test-shop.myshopify.com"


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it is truthy (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def open_store(folder: Path) -> Store:
    return Store(folder / "shopodoo.db")


def make_config(
    folder: Path, *, workers: int = 2, lease_seconds: int = 30, flows: dict[str, str] | None = None
) -> Config:
    shop = ShopConfig(domain=SHOP, flows=flows or {"test": "auto"})
    return Config(
        path=folder / "config.toml",
        odoo=None,
        shops=(shop,),
        engine=EngineConfig(workers=workers, lease_seconds=lease_seconds, shutdown_timeout=5.0),
    )


def changes(
    n: int, *, prefix: str = "rec", version: str = "v1", do: str = "done", start: int = 0
) -> list[Change]:
    return [
        Change(
            source_id=f"{prefix}{i}",
            version=version,
            label=f"Test record {prefix}{i}",
            payload={"do": do},
        )
        for i in range(start, start + n)
    ]


class ScriptedFlow:
    """A flow whose behaviour each job's payload chooses (one job at a time)."""

    name = "test"
    stream = "test"
    batch_size = 1

    def __init__(
        self, pages: Iterable[Page] = (), *, log_file: Path | None = None, work_seconds: float = 0.0
    ) -> None:
        self.pages = list(pages)
        self.handled: list[int] = []
        self.lock = threading.Lock()
        self.log_file = log_file
        self.work_seconds = work_seconds
        self.release = threading.Event()
        self.on_handle: Callable[[JobContext], None] | None = None
        self.poll_calls: list[str | None] = []

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]:
        self.poll_calls.append(since)
        yield from self.pages

    def _log(self, line: str) -> None:
        if self.log_file is not None:
            fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)

    def close(self) -> None:
        pass

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]:
        return [self.handle(ctx) for ctx in contexts]

    def handle(self, ctx: JobContext) -> Any:
        job = ctx.job
        self._log(f"start {job.id} {os.getpid()}")
        if self.on_handle is not None:
            try:
                self.on_handle(ctx)
            except CauseError as exc:  # what a client raised becomes the job's outcome
                return Failed(exc.cause)
        do = job.payload.get("do", "done")
        if self.work_seconds:
            time.sleep(self.work_seconds)  # simulated work, not synchronization
        if do == "block":
            self.release.wait(60)
        if do.startswith("fail:"):
            code = do.split(":", 1)[1]
            return Failed(
                Cause(
                    code=code,
                    missing=f"test failure {code}",
                    blocked_on=tuple(job.payload.get("blocked_on", ())),
                )
            )
        if do == "crash":
            raise RuntimeError("handler bug")
        if do == "review" and not job.approved:
            return AwaitApproval(plan={"create": job.source_id}, summary="would create it")
        with self.lock:
            self.handled.append(job.id)
        self._log(f"done {job.id} {os.getpid()}")
        if do == "skip":
            return Skipped("unchanged since last sync")
        ctx.audit("odoo", "created", f"created record for {job.source_id}")
        return Done(f"handled {job.source_id}")


def console_process_env(home: Path, facts: dict[str, Any]) -> dict[str, str]:
    """The environment of a `shopodoo` process on ``home`` (crash tests run the real CLI):
    the shop's and Odoo's secrets in a file keyring the test owns, never the OS keyring."""
    import json

    from shopodoo_console.config import OdooConfig
    from shopodoo_console.secrets import SERVICE

    here = Path(__file__).parent
    keyring_file = home / "keyring.json"
    shop = ShopConfig(domain=facts["shop_domain"])
    odoo = OdooConfig(facts["odoo_url"], facts["odoo_database"], facts["odoo_login"])
    keyring_file.write_text(
        json.dumps(
            {
                f"{SERVICE}/{shop.secret_name}": facts["shop_token"],
                f"{SERVICE}/{odoo.secret_name}": facts["odoo_api_key"],
            }
        )
    )
    return {
        **os.environ,
        "SHOPODOO_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "SHOPODOO_TEST_KEYRING": str(keyring_file),
        "PYTHONPATH": os.pathsep.join([str(here), str(here.parent)]),
    }
