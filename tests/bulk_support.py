"""Helpers for the bulk-operation and audit tests (imported by test_*; not a conftest)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shopodoo_console.sim.shopify import ShopifySimulator

STATE = """
  id status type errorCode createdAt completedAt objectCount rootObjectCount fileSize url
  partialDataUrl query
"""
RUN = (
    "mutation Run($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation {"
    + STATE
    + "} userErrors { field message code } } }"
)
POLL = "query Poll($id: ID!) { bulkOperation(id: $id) {" + STATE + "} }"
CANCEL = (
    "mutation Cancel($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation {"
    + STATE
    + "} userErrors { field message } } }"
)
PRODUCTS_LIKE = "{ orders { edges { node { id } } } }"


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll a condition until it holds (never a fixed sleep); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.01)


def post(
    sim: ShopifySimulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    version: str = "2026-07",
    token: str | None = None,
) -> dict[str, Any]:
    response = httpx.post(
        sim.graphql_url(version),
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token or sim.static_token},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def run(sim: ShopifySimulator, inner: str, **kwargs: Any) -> dict[str, Any]:
    return post(sim, RUN, {"query": inner}, **kwargs)


def poll(sim: ShopifySimulator, op_id: str, **kwargs: Any) -> dict[str, Any]:
    return post(sim, POLL, {"id": op_id}, **kwargs)["data"]["bulkOperation"]


def finished(sim: ShopifySimulator, op_id: str, **kwargs: Any) -> dict[str, Any]:
    """Poll until the operation is no longer CREATED/RUNNING/CANCELING."""
    state = wait_for(
        lambda: (
            (op := poll(sim, op_id, **kwargs))["status"] not in ("CREATED", "RUNNING", "CANCELING")
            and op
        )
    )
    assert state, f"bulk operation {op_id} did not finish"
    return state


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys, and the type of every leaf (None stays None)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None if value is None else type(value).__name__


def capture(reference_dir: Path, relative: str) -> dict[str, Any]:
    path = reference_dir / "shopify" / "captures" / relative
    if not path.is_file():
        import pytest

        pytest.skip(f"capture {relative} not available")
    return json.loads(path.read_text("utf-8"))
