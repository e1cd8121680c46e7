"""Helpers for the Shopify tests (imported by test_shopify_*.py; not a conftest)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from graphql import GraphQLSchema, build_schema

from shopodoo_console.shopify import ShopifyClient, StaticToken
from shopodoo_console.sim.shopify import ShopifySimulator, generate

FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FAST_TIMEOUT = httpx.Timeout(connect=2.0, read=2.0, write=2.0, pool=2.0)


@cache
def scenario(orders: int = 30, seed: int = 3) -> dict[str, Any]:
    return generate(seed=seed, orders=orders, now=FIXED_NOW)


@cache
def reference_schema(path: Path) -> GraphQLSchema:
    """The real Admin schema, built once per test process (~4 s).

    ``assume_valid``: graphql-core 3.3's schema validation rejects Shopify's SDL (deprecated
    implementations of non-deprecated interface fields); documents are still fully validated.
    """
    return build_schema(path.read_text(encoding="utf-8"), assume_valid=True)


def client_for(sim: ShopifySimulator, auth: Any = None, **kwargs: Any) -> ShopifyClient:
    options: dict[str, Any] = {"backoff": 0.01, "retries": 3, "timeout": FAST_TIMEOUT}
    options.update(kwargs)
    return ShopifyClient(
        sim.domain,
        auth=auth or StaticToken(sim.static_token),
        base_url=sim.base_url,
        **options,
    )


def gql(
    sim: ShopifySimulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    operation: str | None = None,
) -> tuple[int, Any]:
    """A raw GraphQL POST, to look at the simulator's own answers."""
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    if operation:
        payload["operationName"] = operation
    response = httpx.post(
        sim.graphql_url(),
        json=payload,
        headers={"X-Shopify-Access-Token": token or sim.static_token},
        timeout=5,
    )
    return response.status_code, response.json()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait on a condition (never a fixed sleep): fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        assert time.monotonic() < deadline, "the condition was not reached in time"
        pause.wait(0.005)
