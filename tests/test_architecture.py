"""DESIGN §2's layering, enforced: one-way dependencies, checked on every import statement.

ui → engine, store, config; workflows → engine, shopify, odoo, store; engine → store;
store → nothing above it; the clients and the simulator stand alone; nothing outside ``ui/``
imports Textual or Rich; the product imports ``sim/`` only to run the demo and ``shopodoo
sim``. (Imports inside functions count too: a lazy import is still a dependency.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "shopodoo_console"
# Import nothing from the product but each other; everyone may use them: causes and their
# plain-language wording, redaction, the catalog of shop options, and periods as people type
# them ("30d").
LEAVES = {"causes", "redact", "explain", "shop_options", "periods"}


def modules() -> dict[str, set[str]]:
    """Every product module → every module it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = ".".join(parts[:-1])
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                    imported.add(target)
                else:
                    module = node.module or ""
                    imported.add(module)
                    if module == "shopodoo_console":  # from shopodoo_console import x
                        imported.update(f"shopodoo_console.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        found[name] = imported
    return found


MODULES = modules()


def area(module: str) -> str:
    """The part of the product a module belongs to: ``engine``, ``ui``, ``cli``..."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def product_areas(module: str) -> set[str]:
    return {
        area(i)
        for i in MODULES[module]
        if i.startswith("shopodoo_console.") and area(i) != area(module)
    }


def in_area(name: str) -> list[str]:
    return [m for m in MODULES if area(m) == name]


def test_every_area_is_checked() -> None:
    assert {"engine", "store", "ui", "workflows", "shopify", "odoo", "sim"} <= {
        area(m) for m in MODULES
    }


@pytest.mark.parametrize(
    ("layer", "allowed"),
    [
        ("store", set()),
        ("engine", {"store", "config"}),
        ("shopify", set()),
        ("odoo", set()),
        ("workflows", {"engine", "shopify", "odoo", "store", "config", "doctor", "secrets"}),
        ("ui", {"engine", "store", "config", "config_file", "secrets"}),
        ("sim", set()),
    ],
)
def test_each_layer_imports_only_what_lies_below_it(layer: str, allowed: set[str]) -> None:
    wrong = {
        (module, other)
        for module in in_area(layer)
        for other in product_areas(module) - allowed - LEAVES
    }
    assert not wrong, f"{layer} must not import: {sorted(wrong)}"


def test_the_leaves_import_nothing_from_the_product() -> None:
    for leaf in LEAVES:
        assert product_areas(f"shopodoo_console.{leaf}") <= LEAVES - {leaf}, leaf


def test_nothing_outside_ui_imports_textual_or_rich() -> None:
    wrong = [
        (module, i)
        for module, imported in MODULES.items()
        if area(module) != "ui"
        for i in imported
        if i.split(".")[0] in ("textual", "rich")
    ]
    assert not wrong, wrong


def test_the_engine_never_imports_a_workflow() -> None:
    for module in in_area("engine"):
        assert not any(i.startswith("shopodoo_console.workflows") for i in MODULES[module])


def test_only_the_demo_and_the_sim_command_import_the_simulators() -> None:
    importers = {
        module
        for module, imported in MODULES.items()
        if area(module) != "sim" and any(i.startswith("shopodoo_console.sim") for i in imported)
    }
    assert importers <= {"shopodoo_console.demo", "shopodoo_console.cli"}, importers


def test_sql_is_built_only_in_store() -> None:
    """Nothing outside store/ (and the simulators) writes a SQL statement."""
    statement = re.compile(
        r"^\s*(SELECT\s.+\sFROM\s|INSERT INTO\s|UPDATE\s+\S+\s+SET\s|DELETE FROM\s)"
    )
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).parts
        if relative[0] in ("store", "sim"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and statement.match(text):
                wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not wrong, wrong
