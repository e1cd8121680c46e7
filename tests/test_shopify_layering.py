"""Dependency rules (DESIGN §2): the client imports only causes/redact and third-party
libraries; the simulator imports nothing from the product."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "shopodoo_console"


def product_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    module = ".".join([*base, *(node.module.split(".") if node.module else [])])
                else:
                    module = node.module or ""
                if module.startswith("shopodoo_console"):
                    found.add(module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("shopodoo_console"))
    return found


def test_client_imports_only_causes_and_redact():
    # clock: the server-clock estimate both clients share (imports nothing from the product)
    allowed = {"shopodoo_console.causes", "shopodoo_console.redact", "shopodoo_console.clock"}
    for module in product_imports(PACKAGE / "shopify"):
        assert module in allowed or module.startswith("shopodoo_console.shopify"), module


def test_simulator_is_standalone():
    for module in product_imports(PACKAGE / "sim"):
        assert module.startswith("shopodoo_console.sim"), module
