"""`shopodoo` in its own process, running the scripted test flow instead of the orders flow.

For tests of the engine and the command line that need a real process but no simulators.
``FILL_DISK=/path/file``: when the first batch runs, fill the disk with that file, so the
batch's outcomes cannot be committed (a disk that fills up mid-sync).
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

from support import SHOP, ScriptedFlow, changes

from shopodoo_console import cli, launch
from shopodoo_console.config import Paths
from shopodoo_console.engine.flows import FlowRegistry, JobContext, Outcome, Page

CONFIG = f"""
[[shops]]
domain = "{SHOP}"

[shops.flows]
orders = "auto"

[engine]
workers = 1
"""


class FillsTheDisk(ScriptedFlow):
    name = stream = "orders"  # a flow name the config accepts
    batch_size = 10

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]:
        filler = os.environ.get("FILL_DISK")
        if filler and not Path(filler).exists():
            fill(Path(filler))
        return super().handle_batch(contexts)


def fill(path: Path) -> None:
    """Write ``path`` until the disk holding it has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"\0" * 65536
        while True:
            try:
                os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(block) == 1:
                    return
                block = block[: len(block) // 2]
    finally:
        os.close(fd)


def flows(*args: Any, **kwargs: Any) -> FlowRegistry:
    return FlowRegistry([FillsTheDisk([Page(changes(40), cursor="c1")])])


if __name__ == "__main__":
    paths = Paths.discover()
    paths.ensure()
    if not paths.config_file.exists():
        paths.config_file.write_text(CONFIG)
    launch.build_flows = flows  # type: ignore[assignment]
    sys.exit(cli.main(sys.argv[1:]))
