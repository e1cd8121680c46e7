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
# plain-language wording, redaction, the catalog of shop options, periods as people type
# them ("30d"), and the server-clock estimate both clients keep.
LEAVES = {"causes", "redact", "explain", "shop_options", "periods", "clock"}


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


# ---------------------------------------------------------------- statements in store/

STORE = PACKAGE / "store"
# What only SQLite says (pragmas, the link writer's two ON CONFLICT clauses) is written as
# text in one module; every other statement is built by peewee from the models.
RAW_SQL_HOME = {"sqlite.py"}
# Modules that hand text to the database: sqlite.py its own statements, compiled.py the SQL
# peewee compiled, db.py's ``Store.execute`` (a test and debugging helper).
RUNS_TEXT = {"sqlite.py", "compiled.py", "db.py"}
SQL_TEXT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|DROP|ALTER|BEGIN)\b"
)
TEXT_RUNNERS = {"execute_sql", "executemany", "executescript"}


def sql_literals(source: str) -> list[int]:
    """Lines of the string literals (plain or f-strings, concatenated or not) that start
    like a SQL statement. Keywords are upper case, as SQL is written: docstrings that begin
    "Update the ..." are prose."""
    found: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            text = head.value if isinstance(head, ast.Constant) else None
        elif isinstance(node, ast.Constant):
            text = node.value
        else:
            continue
        if isinstance(text, str) and SQL_TEXT.match(text):
            found.add(node.lineno)
    return sorted(found)


def _receiver(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def text_runs(source: str) -> list[str]:
    """Calls that hand SQL text to the database: ``Store.execute`` (``store.execute(...)``,
    ``self.store.execute(...)``) and the driver's own ``execute_sql`` / ``executemany``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name in TEXT_RUNNERS or (name == "execute" and _receiver(node.func.value) == "store"):
            found.append(f"{name}:{node.lineno}")
    return found


def test_the_detectors_see_sql_text_and_its_runners() -> None:
    """The checks below are not vacuous: each would catch the shapes the old modules had."""
    sample = '''
rows = store.execute(
    "SELECT id FROM job "
    "WHERE state = ?", (s,)
).fetchall()
store.db.cursor().executemany("INSERT INTO finding (kind) VALUES (?)", rows)
self.store.execute(f"UPDATE job SET state = ? WHERE id IN ({marks})", ids)
db.execute_sql(LINK_WRITE, values)
query.execute(store.db)  # peewee runs what it built: fine
"""Update the run's progress."""  # a docstring
'''
    assert sql_literals(sample) == [3, 6, 7]
    assert sorted(text_runs(sample)) == ["execute:2", "execute:7", "execute_sql:8", "executemany:6"]


def test_store_writes_sql_text_only_in_sqlite_py() -> None:
    """Every statement in store/ is built with peewee over the models; raw SQL (what peewee
    cannot say, or what only SQLite says) lives in sqlite.py (issue 9, item 5)."""
    wrong = [
        f"store/{path.name}:{line}"
        for path in sorted(STORE.glob("*.py"))
        if path.name not in RAW_SQL_HOME
        for line in sql_literals(path.read_text(encoding="utf-8"))
    ]
    assert not wrong, f"SQL text outside store/sqlite.py: {wrong}"


def test_only_sqlite_py_the_compiler_and_the_debug_helper_run_sql_text() -> None:
    """No module of the product hands SQL text to the database through ``Store.execute`` or
    the driver, except sqlite.py, compiled.py (peewee's own output) and db.py (which defines
    ``Store.execute`` for tests and debugging)."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "sim" or (
            relative.parts[0] == "store" and relative.name in RUNS_TEXT
        ):
            continue
        wrong += [f"{relative}:{c}" for c in text_runs(path.read_text(encoding="utf-8"))]
    assert not wrong, wrong
