"""The Shopify GraphQL Admin client the flows use (shopify.md; DESIGN §8).

One :class:`ShopifyClient` per shop, shared by every worker thread: one ``httpx.Client``
(thread-safe, explicit timeouts), one token renewed once for all threads, one copy of the
leaky bucket so that together the threads never spend past it. Every call is a document from
``queries/``; every failure is a :class:`~shopodoo_console.causes.CauseError`.

Retry rules (shopify.md §3-§4, §8):

* throttling (THROTTLED or 429) waits and resends, without counting as an attempt;
* a read that meets a 5xx, a timeout or a dropped connection is retried with backoff;
* a write whose answer is lost raises ``shopify.outcome_unknown`` — unless it is idempotent by
  key (``@idempotent``) or by nature (``tagsAdd``, ``metafieldsSet`` without compare digest),
  which are resent as they are;
* a request that never left (connection refused) is retried whatever it is.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..causes import Cause, CauseError
from ..clock import ServerClock
from ..redact import RedactingFilter, redact, register_secret
from . import documents, inventory, shipping
from .auth import Auth, ClientCredentials, StaticToken
from .budget import Budget, BudgetExceeded, Throttle
from .errors import (
    CostTooHigh,
    CredentialsRejected,
    Reply,
    ServerBusy,
    Throttled,
    invalid_payload,
    read_reply,
)
from .models import (
    AccessInfo,
    FulfillmentResult,
    FulfillOutcome,
    InventoryResult,
    MetafieldsResult,
    OrderStamp,
    QuantityTarget,
    TagsResult,
    Tracking,
    UserError,
    nodes,
)

log = logging.getLogger(__name__)
log.addFilter(RedactingFilter())

EventHandler = Callable[[str, dict[str, Any]], None]
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)
MAX_QUERY_COST = 1000
MAX_IDS = 250
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _quote(value: str) -> str:
    """A search value, quoted so colons and spaces stay inside it (shopify.md §7.2)."""
    if "'" in value:
        return '"' + value.replace('"', '\\"') + '"'
    return f"'{value}'"


def search_time(when: datetime) -> str:
    """A UTC timestamp for search strings: ``'2026-11-05T14:37:12Z'`` (quoted, §7.2)."""
    if when.tzinfo is None:
        raise ValueError("use an aware datetime (UTC) for Shopify searches")
    return "'" + when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


@dataclass
class _Tries:
    """Where one :meth:`ShopifyClient.execute` call stands: attempts (they count toward
    ``retries``), throttled answers (they do not) and whether the token was renewed (once)."""

    name: str
    units: int | None
    resendable: bool
    attempts: int = 0
    throttled: int = 0
    renewed: bool = False


class ShopifyClient:
    """Talk to one shop's GraphQL Admin API.

    ``base_url`` replaces ``https://{domain}`` (the simulator: ``http://127.0.0.1:PORT``);
    plain ``http`` is refused unless the host is loopback. ``on_event(name, data)`` receives
    ``request``, ``wait`` (paced before sending), ``throttled``, ``retry`` and ``token``
    events for the dashboard; it must be quick and must not raise.
    """

    def __init__(
        self,
        domain: str,
        *,
        auth: Auth,
        api_version: str = "2026-07",
        base_url: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        on_event: EventHandler | None = None,
        retries: int = 4,
        backoff: float = 0.5,
        max_throttle_wait: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not domain or "/" in domain:
            raise ValueError(f"not a shop domain: {domain!r} (expected e.g. demo.myshopify.com)")
        base = (base_url or f"https://{domain}").rstrip("/")
        parts = urllib.parse.urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base!r}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(f"plain http is only allowed on loopback, not {parts.hostname!r}")
        self.domain = domain
        self.api_version = api_version
        self.base_url = base
        self.graphql_url = f"{base}/admin/api/{api_version}/graphql.json"
        self._auth = auth
        self._on_event = on_event
        self._retries = retries
        self._backoff = backoff
        self._max_throttle_wait = max_throttle_wait
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._throttle = Throttle()
        self._token_lock = threading.Lock()
        self._token: str | None = auth.token if isinstance(auth, StaticToken) else None
        self._token_expires = float("inf")
        self._costs: dict[str, float] = {}
        self._costs_lock = threading.Lock()
        self.server_clock = ServerClock()

    def __repr__(self) -> str:
        return f"ShopifyClient(domain={self.domain!r}, api_version={self.api_version!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- budget and events ------------------------------------------------------------------

    @property
    def budget(self) -> Budget | None:
        """The bucket as last reported and projected to now; ``None`` before the first call."""
        return self._throttle.budget()

    def _on_wait(self, operation: str, cost: float) -> Callable[[float], None]:
        """What to report while the throttle makes ``operation`` wait."""

        def report(wait: float) -> None:
            self._emit("wait", operation=operation, seconds=wait, cost=cost)

        return report

    def emit(self, name: str, **data: Any) -> None:
        """Report an event to ``on_event`` (helpers of the flows' operations use it too)."""
        self._emit(name, **data)

    def _emit(self, name: str, **data: Any) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(name, data)
        except Exception:  # a dashboard bug must not break a sync
            log.exception("on_event handler failed for %s", name)

    # -- tokens -----------------------------------------------------------------------------

    def _access_token(self) -> str:
        if isinstance(self._auth, StaticToken):
            return self._auth.token
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_expires:
                self._renew_token()
            assert self._token is not None
            return self._token

    def _token_rejected(self, used: str) -> bool:
        """After a 401: renew once (unless another thread already did). False: cannot."""
        if not isinstance(self._auth, ClientCredentials):
            return False
        with self._token_lock:
            if self._token == used:
                self._renew_token()
        return True

    def _renew_token(self) -> None:
        """Client-credentials grant (shopify.md §1.1); the caller holds ``_token_lock``."""
        auth = self._auth
        assert isinstance(auth, ClientCredentials)
        url = f"{self.base_url}/admin/oauth/access_token"
        operation = "access token request"
        try:
            response = self._http.post(
                url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": auth.client_id,
                    "client_secret": auth.client_secret,
                },
            )
        except httpx.TransportError as exc:
            raise CauseError(
                Cause(
                    code="shopify.unavailable",
                    missing=f"Could not reach {self.domain} to get an access token.",
                    operation=f"Shopify {operation}",
                    detail=redact(str(exc)),
                )
            ) from None
        if response.status_code != 200:
            # reuse the HTTP classification (401 → unauthorized, 5xx → unavailable, …)
            read_reply(
                response.status_code,
                response.headers,
                response.content,
                operation=operation,
                shop=self.domain,
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 86399)
        except (ValueError, KeyError, TypeError):
            raise invalid_payload(operation, "no access_token in the answer") from None
        register_secret(token)
        margin = min(auth.margin, lifetime / 10)
        self._token = token
        self._token_expires = time.monotonic() + lifetime - margin
        self._emit("token", expires_in=lifetime)

    # -- the request loop -------------------------------------------------------------------

    def _estimate(self, name: str, units: int | None, default: float) -> float:
        with self._costs_lock:
            per_unit = self._costs.get(name)
        if per_unit is None:
            return default
        return per_unit * (units or 1)

    def _learn(self, name: str, units: int | None, requested: int | None) -> None:
        if requested is None:
            return
        with self._costs_lock:
            self._costs[name] = requested / (units or 1)

    def cost_per_unit(self, name: str) -> float | None:
        """What one unit (an id, a page row) of a document cost last time, if known.

        Documents sent without ``units`` — mutations whose cost does not grow with their input,
        like ``InventorySetQuantities`` (13 points for up to 250 quantities) — count the call
        as the unit.
        """
        with self._costs_lock:
            return self._costs.get(name)

    def sustained_rate(self, name: str) -> float | None:
        """Units of a document per second the bucket's refill pays for (the ceiling a flow
        can reach on this plan), from the last measured cost; ``None`` until both are known."""
        per_unit = self.cost_per_unit(name)
        budget = self.budget
        if not per_unit or budget is None:
            return None
        return budget.restore_rate / per_unit

    def execute(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        units: int | None = None,
        default_cost: float = 50.0,
        idempotent: bool = False,
    ) -> Reply:
        """Send ``queries/<name>.graphql``; pace, retry and classify as the module says.

        ``units`` (ids asked for, page size) lets the client scale what it learned about the
        document's cost; ``idempotent`` marks a mutation that may be resent as it is.
        """
        doc = documents.load(name)
        payload = {"query": doc.text, "variables": dict(variables or {}), "operationName": name}
        tries = _Tries(name, units, resendable=not doc.is_mutation or idempotent)
        while True:
            estimate = self._estimate(name, units, default_cost)
            self._acquire(name, estimate)
            try:
                token = self._access_token()
            except BaseException:
                self._throttle.release(estimate)
                raise
            started = time.monotonic()
            try:
                response = self._http.post(
                    self.graphql_url,
                    json=payload,
                    headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                )
            except httpx.TransportError as exc:
                self._throttle.release(estimate)
                self._after_lost(tries, exc)
                continue
            try:
                reply = read_reply(
                    response.status_code,
                    response.headers,
                    response.content,
                    operation=name,
                    shop=self.domain,
                )
            except CauseError as exc:
                self._throttle.release(estimate)
                self._after_refusal(tries, exc, response.status_code, token)
                continue
            self._settle(tries, estimate, reply, response, started)
            return reply

    def _acquire(self, name: str, estimate: float) -> None:
        """Take ``estimate`` points from the shared bucket, waiting at most
        ``max_throttle_wait``: a longer wait is the job's to make, not a worker's."""
        try:
            self._throttle.acquire(estimate, self._max_throttle_wait, self._on_wait(name, estimate))
        except BudgetExceeded as exc:
            raise CauseError(
                Cause(
                    code="shopify.throttled",
                    missing="Shopify's rate limit bucket needs longer to refill than the "
                    "console waits in one go.",
                    operation=f"Shopify {name}",
                    retry_after=exc.wait,
                )
            ) from None

    def _after_lost(self, tries: _Tries, exc: httpx.TransportError) -> None:
        """A request without an answer: resend it after a pause if it never left or may be
        sent twice; else its outcome is unknown, and so is the job's."""
        name = tries.name
        sent = not isinstance(exc, NOT_SENT)
        if sent and not tries.resendable:
            raise CauseError(
                Cause(
                    code="shopify.outcome_unknown",
                    missing=f"The connection to {self.domain} broke after {name} was "
                    "sent: Shopify may or may not have applied it.",
                    operation=f"Shopify {name}",
                    detail=redact(f"{type(exc).__name__}: {exc}"),
                    retry_note="the retry re-reads Shopify before writing again",
                )
            ) from None
        tries.attempts += 1
        if tries.attempts > self._retries:
            raise CauseError(
                Cause(
                    code="shopify.unavailable",
                    missing=f"{self.domain} did not answer {name} after {tries.attempts} tries.",
                    operation=f"Shopify {name}",
                    detail=redact(f"{type(exc).__name__}: {exc}"),
                )
            ) from None
        self._pause(name, tries.attempts, type(exc).__name__)

    def _after_refusal(self, tries: _Tries, exc: CauseError, status: int, token: str) -> None:
        """Return to send again (throttled, a renewed token, a busy server that may be
        asked again); raise what cannot be recovered here."""
        if isinstance(exc, Throttled):
            self._after_throttled(tries, exc, status)
        elif isinstance(exc, CredentialsRejected):
            if tries.renewed or not self._token_rejected(token):
                raise exc
            tries.renewed = True
        elif isinstance(exc, ServerBusy):
            self._after_busy(tries, exc)
        else:
            raise exc

    def _after_throttled(self, tries: _Tries, exc: Throttled, status: int) -> None:
        """Learn the bucket and the cost from the refusal and hold every thread back; a
        throttled answer is not an attempt, but 50 in a row give up."""
        tries.throttled += 1
        if exc.status is not None:
            self._throttle.update(exc.status)
        if exc.requested is not None:
            self._learn(tries.name, tries.units, exc.requested)
        wait = exc.cause.retry_after or 0.0
        if status == 429:
            self._throttle.hold(wait)
        else:  # THROTTLED: at least a short, growing pause against a persistent one
            self._throttle.hold(min(2.0, 0.05 * 2 ** min(tries.throttled, 6)))
        self._emit(
            "throttled",
            operation=tries.name,
            http_status=status,
            wait=wait,
            requested=exc.requested,
        )
        if tries.throttled > 50:
            raise exc

    def _after_busy(self, tries: _Tries, exc: ServerBusy) -> None:
        """A 5xx: a read is asked again after a pause; a write's outcome is unknown."""
        name = tries.name
        if not tries.resendable:
            raise CauseError(
                Cause(
                    code="shopify.outcome_unknown",
                    missing=f"Shopify answered HTTP {exc.status} to {name}: it may or may "
                    "not have applied it.",
                    operation=f"Shopify {name}",
                    detail=exc.cause.detail,
                    retry_note="the retry re-reads Shopify before writing again",
                )
            ) from None
        tries.attempts += 1
        if tries.attempts > self._retries:
            raise exc
        self._pause(name, tries.attempts, f"HTTP {exc.status}")

    def _settle(
        self,
        tries: _Tries,
        estimate: float,
        reply: Reply,
        response: httpx.Response,
        started: float,
    ) -> None:
        """An answer: the server's clock, the bucket it reported and the cost it charged
        replace the estimates; the dashboard hears of the request."""
        self.server_clock.sample(response.headers.get("date"), time.time())
        if reply.cost is not None and reply.cost.throttle is not None:
            self._throttle.update(reply.cost.throttle)
        self._throttle.release(estimate)
        if reply.cost is not None:
            self._learn(tries.name, tries.units, reply.cost.requested)
        self._emit(
            "request",
            operation=tries.name,
            seconds=time.monotonic() - started,
            requested=reply.cost.requested if reply.cost else None,
            actual=reply.cost.actual if reply.cost else None,
            available=reply.cost.throttle.available if reply.cost and reply.cost.throttle else None,
        )

    def _pause(self, name: str, attempt: int, reason: str) -> None:
        delay = min(30.0, self._backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        self._emit("retry", operation=name, attempt=attempt, reason=reason, delay=delay)
        log.info("retrying %s in %.2fs after %s (attempt %d)", name, delay, reason, attempt)
        time.sleep(delay)

    @contextmanager
    def shaped(self, operation: str) -> Iterator[None]:
        """A response missing what we selected becomes ``data.invalid_payload``."""
        try:
            yield
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise invalid_payload(operation, f"{type(exc).__name__}: {exc}") from None

    # -- orders -----------------------------------------------------------------------------

    def orders_updated_since(
        self,
        since: datetime,
        overlap: timedelta = timedelta(minutes=5),
        *,
        until: datetime | None = None,
        page_size: int = 250,
    ) -> Iterator[list[OrderStamp]]:
        """Pages of orders updated at or after ``since - overlap``, oldest first (§7.3).

        Cheap: ids and versions only. The caller deduplicates on ``(gid, updated_at)`` and
        advances its watermark only after the last page.
        """
        query = f"updated_at:>={search_time(since - overlap)}"
        if until is not None:
            query += f" AND updated_at:<={search_time(until)}"
        first, after = min(page_size, 250), None
        while True:
            try:
                reply = self.execute(
                    "OrdersUpdatedSince",
                    {"first": first, "after": after, "query": query},
                    units=first,
                    default_cost=first + 2,
                )
            except CostTooHigh:
                if first == 1:
                    raise
                first = max(1, first // 2)
                continue
            with self.shaped("OrdersUpdatedSince"):
                connection = reply.data["orders"]
                page = [OrderStamp.from_node(node) for node in nodes(connection)]
                info = connection["pageInfo"]
            yield page
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    COUNTS_PER_REQUEST = 10  # the aliases of queries/OrdersCount.graphql

    def orders_counts(self, queries: Sequence[str]) -> list[int | None]:
        """How many orders match each search, exactly (``None`` where Shopify answered only a
        lower bound); one point per search, ten per request."""
        out: list[int | None] = []
        size = self.COUNTS_PER_REQUEST
        for start in range(0, len(queries), size):
            part = list(queries[start : start + size])
            padded = part + [part[0]] * (size - len(part))
            reply = self.execute(
                "OrdersCount", {f"q{i}": q for i, q in enumerate(padded)}, default_cost=size
            )
            with self.shaped("OrdersCount"):
                for i in range(len(part)):
                    count = reply.data[f"c{i}"]
                    exact = count is not None and count["precision"] == "EXACT"
                    out.append(int(count["count"]) if exact else None)
        return out

    def order_batch_size(self, document: str = "OrdersByIds") -> int:
        """How many full orders fit one request: within 1000 points and the bucket."""
        per_order = self.cost_per_unit(document)
        if per_order is None or per_order <= 0:
            return 2  # learn the real cost on a small first batch
        budget = self.budget
        ceiling = min(MAX_QUERY_COST, budget.maximum if budget else MAX_QUERY_COST)
        return max(1, min(MAX_IDS, int(ceiling // per_order)))

    def orders_by_ids(
        self, ids: Sequence[str], *, line_items_first: int = 20, document: str = "OrdersByIds"
    ) -> dict[str, dict[str, Any] | None]:
        """Full orders by GID, fetched in batches sized to the bucket (``nodes(ids:)``).

        Each value is the order as selected by ``fragments/OrderDetail.graphql`` with *all* its
        line items (extra pages fetched), or ``None`` when Shopify does not return it (deleted,
        or outside the 60-day window without ``read_all_orders``, shopify.md §7.4).
        ``document="OrdersForSync"`` selects only what the orders flow reads (fewer points).
        """
        pending = list(dict.fromkeys(ids))
        found: dict[str, dict[str, Any] | None] = {}
        batch = self.order_batch_size(document)
        while pending:
            chunk = pending[:batch]
            try:
                reply = self.execute(
                    document,
                    {"ids": chunk, "lineItemsFirst": line_items_first},
                    units=len(chunk),
                    default_cost=len(chunk) * 150,
                )
            except CostTooHigh as exc:
                if len(chunk) > 1:
                    ratio = (exc.max_cost or MAX_QUERY_COST) / (exc.cost or 2 * MAX_QUERY_COST)
                    batch = max(1, min(len(chunk) - 1, int(len(chunk) * ratio)))
                elif line_items_first > 1:
                    line_items_first = max(1, line_items_first // 2)
                else:
                    raise
                continue
            with self.shaped(document):
                for gid, node in zip(chunk, reply.data["nodes"], strict=True):
                    is_order = isinstance(node, dict) and node.get("__typename") == "Order"
                    found[gid] = node if is_order else None
            pending = pending[len(chunk) :]
            batch = self.order_batch_size(document)
        for order in found.values():
            if order is not None:
                self._complete_line_items(order)
        return {gid: found.get(gid) for gid in ids}

    def order(self, gid: str, *, line_items_first: int = 50) -> dict[str, Any] | None:
        """One full order (``None`` if Shopify does not return it)."""
        while True:
            try:
                reply = self.execute(
                    "Order", {"id": gid, "lineItemsFirst": line_items_first}, default_cost=200
                )
                break
            except CostTooHigh:
                if line_items_first == 1:
                    raise
                line_items_first = max(1, line_items_first // 2)
        order = reply.data.get("order")
        if order is not None:
            self._complete_line_items(order)
        return order

    def _complete_line_items(self, order: dict[str, Any]) -> None:
        with self.shaped("OrderLineItems"):
            connection = order["lineItems"]
            while connection["pageInfo"]["hasNextPage"]:
                reply = self.execute(
                    "OrderLineItems",
                    {"id": order["id"], "first": 100, "after": connection["pageInfo"]["endCursor"]},
                    default_cost=102,
                )
                more = (reply.data.get("order") or {}).get("lineItems")
                if more is None:
                    break
                connection["nodes"].extend(nodes(more))
                connection["pageInfo"] = more["pageInfo"]

    # -- customers --------------------------------------------------------------------------

    def customer(self, gid: str) -> dict[str, Any] | None:
        return self.execute("Customer", {"id": gid}, default_cost=2).data.get("customer")

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        """Exact lookup (not search, which lags: shopify.md §7.3)."""
        reply = self.execute("CustomerByEmail", {"email": email}, default_cost=2)
        return reply.data.get("customerByIdentifier")

    def customers_search(self, query: str | None, *, page_size: int = 100) -> Iterator[list[dict]]:
        """Pages of customers matching a search string, by ``updatedAt``."""
        after = None
        while True:
            reply = self.execute(
                "CustomersSearch",
                {"first": page_size, "after": after, "query": query},
                units=page_size,
                default_cost=page_size + 2,
            )
            with self.shaped("CustomersSearch"):
                connection = reply.data["customers"]
                yield nodes(connection)
                if not connection["pageInfo"]["hasNextPage"]:
                    return
                after = connection["pageInfo"]["endCursor"]

    # -- catalogue and stock ----------------------------------------------------------------

    def _variants(self, field: str, value: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = None
        while True:
            reply = self.execute(
                "VariantsSearch",
                {"first": 50, "after": after, "query": f"{field}:{_quote(value)}"},
                units=50,
                default_cost=52,
            )
            with self.shaped("VariantsSearch"):
                connection = reply.data["productVariants"]
                found.extend(nodes(connection))
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                after = connection["pageInfo"]["endCursor"]
        # search may match loosely; keep exact matches only
        return [v for v in found if v.get(field) == value]

    def variants_by_sku(self, sku: str) -> list[dict[str, Any]]:
        """Variants whose SKU is exactly ``sku`` (0, 1 or many: SKUs are not unique)."""
        return self._variants("sku", sku)

    def variants_by_barcode(self, barcode: str) -> list[dict[str, Any]]:
        return self._variants("barcode", barcode)

    def locations(
        self, *, include_inactive: bool = False, include_legacy: bool = False
    ) -> list[dict[str, Any]]:
        """Every location with its address, by name; inactive and fulfillment-service
        ("legacy") locations only when asked for (shopify.md §8.3)."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            reply = self.execute(
                "Locations",
                {
                    "first": 100,
                    "after": after,
                    "includeInactive": include_inactive,
                    "includeLegacy": include_legacy,
                },
                units=100,
                default_cost=102,
            )
            with self.shaped("Locations"):
                connection = reply.data["locations"]
                found.extend(nodes(connection))
                if not connection["pageInfo"]["hasNextPage"]:
                    return found
                after = connection["pageInfo"]["endCursor"]

    def inventory_levels(self, inventory_item_id: str) -> dict[str, Any] | None:
        """The inventory item with all its ``inventoryLevels.nodes[].quantities``."""
        item: dict[str, Any] | None = None
        after = None
        while True:
            reply = self.execute(
                "InventoryLevels",
                {"id": inventory_item_id, "first": 50, "after": after},
                units=50,
                default_cost=52,
            )
            with self.shaped("InventoryLevels"):
                page = reply.data.get("inventoryItem")
                if page is None:
                    return item
                if item is None:
                    item = page
                else:
                    item["inventoryLevels"]["nodes"].extend(nodes(page["inventoryLevels"]))
                    item["inventoryLevels"]["pageInfo"] = page["inventoryLevels"]["pageInfo"]
                info = page["inventoryLevels"]["pageInfo"]
                if not info["hasNextPage"]:
                    return item
                after = info["endCursor"]

    def inventory_by_variants(
        self, variant_ids: Sequence[str], *, levels: int = 10
    ) -> dict[str, inventory.ItemInventory | None]:
        """Inventory item, levels and product status of many variants, batched by cost.

        ``levels``: locations read per item in the batch (pass the number of locations the
        shop stocks at); an item stocked at more is completed with ``InventoryLevels``.
        """
        return inventory.by_variants(self, variant_ids, levels)

    def inventory_by_items(
        self, item_ids: Sequence[str], *, levels: int = 10
    ) -> dict[str, inventory.ItemInventory | None]:
        """Levels of many inventory items, batched by cost."""
        return inventory.by_items(self, item_ids, levels)

    def variant_inventory_pages(
        self, *, query: str | None = None, levels: int = 10, page_size: int | None = None
    ) -> Iterator[list[inventory.ItemInventory]]:
        """Pages of every variant (or those matching ``query``) with their inventory, for a
        full resync: the page size fits 1000 points for ``levels`` locations per item."""
        return inventory.variant_pages(self, query, levels, page_size)

    def variant_catalog_pages(
        self, *, after: str | None = None, page_size: int = 250
    ) -> Iterator[tuple[list[dict[str, Any]], str | None, bool, int | None]]:
        """Every variant (id, SKU, barcode, product status, item tracked), page after page
        from ``after``: ``(nodes, end cursor, more pages?, variants in the shop)``. Resumable:
        keep the cursor of the last page handled and pass it back."""
        while True:
            reply = self.execute(
                "VariantsCatalog",
                {"first": page_size, "after": after},
                units=page_size,
                default_cost=page_size * 3 + 3,
            )
            with self.shaped("VariantsCatalog"):
                connection = reply.data["productVariants"]
                count = (reply.data.get("productVariantsCount") or {}).get("count")
                info = connection["pageInfo"]
                more = bool(info["hasNextPage"])
                after = info["endCursor"]
                page = nodes(connection)
            yield page, after, more, count
            if not more:
                return

    def inventory_by_codes(
        self, skus: Sequence[str], barcodes: Sequence[str] = (), *, levels: int = 10
    ) -> list[inventory.ItemInventory]:
        """Variants (with their inventory) whose SKU or barcode is one of these, exactly:
        one search per 25 values (``sku:'A' OR barcode:'B' …``), so matching a batch of
        products costs a few requests, not one per product. SKUs are not unique: a value
        may come back several times."""
        terms = [("sku", v) for v in dict.fromkeys(skus) if v]
        terms += [("barcode", v) for v in dict.fromkeys(barcodes) if v]
        found: dict[str, inventory.ItemInventory] = {}
        for start in range(0, len(terms), 25):
            part = terms[start : start + 25]
            query = " OR ".join(f"{field}:{_quote(value)}" for field, value in part)
            wanted = {(field, value) for field, value in part}
            pages = self.variant_inventory_pages(query=query, levels=levels, page_size=50)
            for page in pages:
                for item in page:
                    exact = ("sku", item.sku) in wanted or ("barcode", item.barcode) in wanted
                    if exact and item.variant_id:
                        found[item.variant_id] = item
        return list(found.values())

    def set_inventory(
        self,
        targets: Sequence[QuantityTarget],
        *,
        idempotency_key: str,
        reason: str = "correction",
        name: str = "available",
        reference_document_uri: str | None = None,
        batch: int = inventory.MAX_QUANTITIES,
    ) -> list[inventory.InventoryBatch]:
        """Set many absolute quantities (≤ 250 per call), compare-and-set, exactly once.

        Batch ``n`` uses the key ``<idempotency_key>:<n>``: derive ``idempotency_key`` from the
        job and keep the targets' order, and a retry replays instead of applying twice. See
        :class:`~.inventory.QuantityOutcome` for what each quantity's status means.
        """
        return inventory.set_quantities(
            self,
            targets,
            idempotency_key,
            reason=reason,
            name=name,
            reference_document_uri=reference_document_uri,
            batch=batch,
        )

    def inventory_activate(
        self,
        inventory_item_id: str,
        location_id: str,
        *,
        idempotency_key: str,
        available: int | None = None,
    ) -> inventory.ActivateResult:
        """Stock an item at a location where it is not stocked yet (idempotent by key)."""
        return inventory.activate(self, inventory_item_id, location_id, available, idempotency_key)

    def inventory_set_quantities(
        self,
        quantities: Sequence[QuantityTarget],
        *,
        idempotency_key: str,
        reason: str = "correction",
        name: str = "available",
        reference_document_uri: str | None = None,
    ) -> InventoryResult:
        """Set absolute quantities with compare-and-set and an idempotency key (§8.4).

        Derive the key from the job (same job → same key on every retry); a lost answer is
        resent with the same key and Shopify replays the first result. On ``stale`` re-read
        the level and call again with a **new** key.
        """
        if not idempotency_key.strip():
            raise ValueError("an idempotency key is required")
        data: dict[str, Any] = {
            "reason": reason,
            "name": name,
            "quantities": [q.as_input() for q in quantities],
        }
        if reference_document_uri is not None:
            data["referenceDocumentUri"] = reference_document_uri
        if len(data["quantities"]) > inventory.MAX_QUANTITIES:
            raise ValueError(f"at most {inventory.MAX_QUANTITIES} quantities per call")
        reply = self.execute(
            "InventorySetQuantities",
            {"input": data, "key": idempotency_key},
            default_cost=13,
            idempotent=True,
        )
        with self.shaped("InventorySetQuantities"):
            payload = reply.data["inventorySetQuantities"]
            return InventoryResult(
                user_errors=UserError.many(payload["userErrors"]),
                group=payload["inventoryAdjustmentGroup"],
            )

    # -- fulfillments -----------------------------------------------------------------------

    def fulfillment_state(self, order_gid: str) -> dict[str, Any] | None:
        """What is fulfilled and what is still open on one order, complete."""
        return shipping.state(self, order_gid)

    def fulfillment_states(self, order_gids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Fulfillment states of many orders in few requests (``None``: not found)."""
        return shipping.states(self, order_gids)

    def fulfillment_create(
        self,
        line_items_by_fulfillment_order: Sequence[Mapping[str, Any]],
        *,
        tracking: Tracking | None = None,
        notify_customer: bool = False,
        message: str | None = None,
    ) -> FulfillmentResult:
        """One ``fulfillmentCreate``. Not idempotent: a lost answer raises
        ``shopify.outcome_unknown``. Prefer :meth:`fulfill`, which re-reads first."""
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": [dict(g) for g in line_items_by_fulfillment_order],
            "notifyCustomer": notify_customer,
        }
        if tracking is not None:
            fulfillment["trackingInfo"] = tracking.as_input()
        reply = self.execute(
            "FulfillmentCreate",
            {"fulfillment": fulfillment, "message": message},
            default_cost=60,
        )
        with self.shaped("FulfillmentCreate"):
            payload = reply.data["fulfillmentCreate"]
            return FulfillmentResult(
                user_errors=UserError.many(payload["userErrors"]),
                fulfillment=payload["fulfillment"],
            )

    def fulfillment_tracking_update(
        self, fulfillment_gid: str, tracking: Tracking, *, notify_customer: bool = False
    ) -> FulfillmentResult:
        """Set a fulfillment's tracking (a number added or corrected after shipping). Setting
        a value: resent after a lost answer, it changes nothing more."""
        reply = self.execute(
            "FulfillmentTrackingInfoUpdate",
            {
                "fulfillmentId": fulfillment_gid,
                "trackingInfoInput": tracking.as_input(),
                "notifyCustomer": notify_customer,
            },
            default_cost=10,
            idempotent=True,
        )
        with self.shaped("FulfillmentTrackingInfoUpdate"):
            payload = reply.data["fulfillmentTrackingInfoUpdate"]
            return FulfillmentResult(
                user_errors=UserError.many(payload["userErrors"]),
                fulfillment=payload["fulfillment"],
            )

    def fulfill(
        self,
        order_gid: str,
        *,
        lines: Mapping[str, int] | None = None,
        tracking: Tracking | None = None,
        notify_customer: bool = False,
        state: Mapping[str, Any] | None = None,
        locations: Collection[str] | None = None,
        max_unknown: int = 3,
    ) -> FulfillOutcome:
        """Bring an order's fulfilled quantities up to ``lines`` — safely retryable (§8.5).

        ``lines`` maps LineItem GIDs to the **total** units that should be fulfilled (e.g.
        Odoo's delivered quantity); ``None`` fulfils everything still open. ``state`` is a
        fulfillment state just read (:meth:`fulfillment_states` for a batch); without it the
        order is read first. A fulfillment that already carries ``tracking.number`` means
        done; only the difference is sent, from fulfillment orders at ``locations`` (all when
        ``None``); what cannot be sent comes back in ``blocked`` with its reason. A lost answer
        is followed by a re-read, never by a blind resend.
        """
        return shipping.fulfill(
            self,
            order_gid,
            lines=lines,
            tracking=tracking,
            notify_customer=notify_customer,
            known=state,
            locations=locations,
            max_unknown=max_unknown,
        )

    # -- write-backs ------------------------------------------------------------------------

    def metafields_set(self, metafields: Sequence[Mapping[str, Any]]) -> MetafieldsResult:
        """Upsert up to 25 metafields atomically (§8.6).

        Without ``compareDigest`` the write is idempotent and resent after a lost answer; with
        one (``None`` = "must not exist yet") a lost answer raises ``outcome_unknown``.
        """
        if not 1 <= len(metafields) <= 25:
            raise ValueError("metafieldsSet takes 1 to 25 metafields")
        guarded = any("compareDigest" in m for m in metafields)
        reply = self.execute(
            "MetafieldsSet",
            {"metafields": [dict(m) for m in metafields]},
            default_cost=10,
            idempotent=not guarded,
        )
        with self.shaped("MetafieldsSet"):
            payload = reply.data["metafieldsSet"]
            return MetafieldsResult(
                user_errors=UserError.many(payload["userErrors"]),
                metafields=payload["metafields"],
            )

    def tags_add(self, gid: str, tags: Sequence[str]) -> TagsResult:
        """Add tags (set semantics, idempotent, §8.7); use lower-case tags."""
        reply = self.execute(
            "TagsAdd", {"id": gid, "tags": list(tags)}, default_cost=10, idempotent=True
        )
        with self.shaped("TagsAdd"):
            payload = reply.data["tagsAdd"]
            node = payload.get("node")
            return TagsResult(
                user_errors=UserError.many(payload["userErrors"]),
                node_id=node["id"] if node else None,
            )

    # -- doctor -----------------------------------------------------------------------------

    def access_scopes(self) -> AccessInfo:
        """Granted scopes and the shop's name, plan and currency (shopify.md §1.2)."""
        reply = self.execute("AccessScopes", default_cost=3)
        with self.shaped("AccessScopes"):
            installation = reply.data["currentAppInstallation"]
            return AccessInfo(
                scopes=frozenset(s["handle"] for s in installation["accessScopes"]),
                shop=dict(reply.data.get("shop") or {}),
            )
