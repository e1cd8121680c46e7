"""The Odoo client: JSON-2 on 19+, JSON-RPC on 16-18, one API for the flows (DESIGN §8).

``connect()`` detects the version (``GET /web/version``, then ``common.version``), picks the
protocol (odoo.md §2.4) and authenticates. Every call has a timeout, is timed for the
dashboard and turns failures into causes (``errors.py``). Reads retry transient failures
with bounded backoff; writes never retry: a lost answer is ``odoo.outcome_unknown`` and the
caller looks the stamp up first (DESIGN §3.4). One client is shared by worker threads.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from ..causes import Cause, CauseError, Kind
from ..clock import ServerClock
from ..redact import redact, register_secret
from . import stock
from .errors import (
    Operation,
    classify,
    http_status_cause,
    outcome_unknown,
    transport_cause,
)
from .stamps import STAMP_MODULE, check_stamp, chunks, load_payload
from .stats import LatencyStats

Protocol = Literal["auto", "json2", "jsonrpc"]
EventSink = Callable[[str, dict[str, Any]], None]
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
TRANSIENT = frozenset({"odoo.unreachable", "odoo.concurrency"})
# Methods that change nothing: safe to retry, and never "outcome unknown".
READ_METHODS = frozenset(
    {
        "search",
        "search_read",
        "search_count",
        "read",
        "fields_get",
        "name_search",
        "default_get",
        "context_get",
        "check_object_reference",
        "exists",
        "version",
        "authenticate",
        "login",
    }
)
# Logical fields: the name each version uses, most recent first (odoo.md §1, §8).
LOGICAL_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sale.order.line", "taxes"): ("tax_ids", "tax_id"),
    ("sale.order.line", "uom"): ("product_uom_id", "product_uom"),
    ("product.product", "storable"): ("is_storable", "detailed_type"),
    ("product.template", "storable"): ("is_storable", "detailed_type"),
    ("stock.move", "done_qty"): ("quantity_done", "quantity"),  # 16 has quantity_done
    ("stock.move", "picked"): ("picked",),
    ("res.partner", "mobile"): ("mobile",),
    ("sale.order", "locked"): ("locked",),
    ("account.move", "payment"): ("origin_payment_id", "payment_id"),
    ("account.payment", "memo"): ("memo", "ref"),  # renamed in 18 [M]
}


@dataclass(frozen=True)
class ServerInfo:
    """What ``connect()`` learnt about the server."""

    version: str
    version_info: tuple[Any, ...]
    major: int
    protocol: Literal["json2", "jsonrpc"]
    uid: int


class OdooClient:
    """A thread-safe Odoo client speaking JSON-2 or JSON-RPC.

    ``company_ids`` become ``allowed_company_ids`` in every call's context (odoo.md §7);
    ``on_event(name, data)`` receives ``connected``, ``protocol_switched``, ``retry`` and
    ``call`` events (never with secrets). ``latency`` holds rolling p50/p95.
    """

    def __init__(
        self,
        url: str,
        *,
        database: str,
        login: str,
        api_key: str,
        protocol: Protocol = "auto",
        timeout: httpx.Timeout | float | None = None,
        company_ids: Sequence[int] | None = None,
        on_event: EventSink | None = None,
        read_retries: int = 3,
        backoff: float = 0.25,
        max_backoff: float = 4.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if protocol not in ("auto", "json2", "jsonrpc"):
            raise ValueError(f"protocol must be auto, json2 or jsonrpc, not {protocol!r}")
        register_secret(api_key)  # before anything could print it
        self.url = url.rstrip("/")
        parsed = httpx.URL(self.url)
        if parsed.scheme not in ("http", "https") or (
            parsed.scheme == "http" and parsed.host not in ("127.0.0.1", "localhost", "::1")
        ):
            # DESIGN §9: the key travels with every call; plain http only on loopback.
            raise ValueError(f"Odoo URL must be https (plain http only on loopback): {url!r}")
        self.database = database
        self.login = login
        self.__key = api_key
        self.protocol: Protocol = protocol
        self.company_ids = list(company_ids) if company_ids else None
        self.on_event = on_event
        self.read_retries = read_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.latency = LatencyStats()
        self.server_clock = ServerClock()  # write_date has whole seconds (DESIGN §3.7)
        self.info: ServerInfo | None = None
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            headers={"User-Agent": "shopodoo-console"},
        )
        self._lock = threading.RLock()
        self._fields: dict[str, dict[str, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        proto = self.info.protocol if self.info else self.protocol
        return f"<OdooClient {self.url} db={self.database!r} login={self.login!r} {proto}>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OdooClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events -----------------------------------------------------------------------------

    def _emit(self, name: str, data: dict[str, Any]) -> None:
        if self.on_event is None:
            return
        with contextlib.suppress(Exception):  # a broken listener must never break a sync
            self.on_event(name, data)

    # -- connection -----------------------------------------------------------------------------

    def connect(self) -> ServerInfo:
        """Detect version and protocol, authenticate; idempotent and thread-safe."""
        with self._lock:
            if self.info is not None:
                return self.info
            version, version_info = self._detect_version()
            major = int(version_info[0]) if version_info and str(version_info[0]).isdigit() else 0
            if not major:
                major = int(str(version).split("~")[-1].split(".")[0] or 0)
            protocol: Literal["json2", "jsonrpc"]
            if self.protocol == "auto":
                protocol = "json2" if major >= 19 else "jsonrpc"
            else:
                protocol = self.protocol
            if protocol == "json2" and major < 19:
                raise CauseError(
                    Cause(
                        code="odoo.unreachable",
                        kind=Kind.CONFIGURATION,
                        missing=f"Odoo {version} at {self.url} has no JSON-2 API (Odoo 19+); "
                        "set the protocol to 'jsonrpc' or 'auto'.",
                        operation="Odoo connect",
                        retry_note="nothing was sent to Odoo's models",
                    )
                )
            uid = self._authenticate(protocol)
            if uid is None:  # /jsonrpc answered 404: RPC disabled on this 19+ server
                protocol = "json2"
                self._emit(
                    "protocol_switched",
                    {"from": "jsonrpc", "to": "json2", "reason": "HTTP 404 on /jsonrpc"},
                )
                uid = self._authenticate(protocol)
            assert uid is not None
            self.info = ServerInfo(version, tuple(version_info), major, protocol, uid)
            self._emit("connected", {"version": version, "protocol": protocol, "uid": uid})
            return self.info

    def _detect_version(self) -> tuple[str, list[Any]]:
        op = Operation("web", "version", login=self.login, database=self.database)
        response = self._send(lambda: self._http.get("/web/version"), op)
        if response.status_code == 200:
            data = self._json(response, op)
            if isinstance(data, dict) and isinstance(data.get("version_info"), list):
                return str(data.get("version")), data["version_info"]
        # 16-18 document only common.version (odoo.md §2.4)
        common = Operation("common", "version", login=self.login, database=self.database)
        try:
            data = self._jsonrpc_call("common", "version", [], common, retries=True)
        except _RpcNotFound:
            raise CauseError(http_status_cause(404, "", common, self.url)) from None
        if not isinstance(data, dict) or not isinstance(data.get("server_version_info"), list):
            raise CauseError(self._bad_payload(op, "common.version"))
        return str(data.get("server_version")), data["server_version_info"]

    def _authenticate(self, protocol: str) -> int | None:
        op = Operation("common", "authenticate", login=self.login, database=self.database)
        if protocol == "json2":
            ctx = self._json2("res.users", "context_get", None, {}, op, retries=True)
            if not isinstance(ctx, dict) or not isinstance(ctx.get("uid"), int):
                raise CauseError(self._bad_payload(op, "res.users.context_get"))
            return int(ctx["uid"])
        try:
            uid = self._jsonrpc_call(
                "common",
                "authenticate",
                [self.database, self.login, self.__key, {}],
                op,
                retries=True,
            )
        except _RpcNotFound:
            return None
        if not uid or not isinstance(uid, int):
            raise CauseError(classify("odoo.exceptions.AccessDenied", "Access Denied", op))
        return uid

    # -- transport ------------------------------------------------------------------------------

    def _send(self, do: Callable[[], httpx.Response], op: Operation) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = do()
        except httpx.HTTPError as exc:
            self.latency.record(time.perf_counter() - started, ok=False)
            raise CauseError(transport_cause(_scrub(exc), op, self.url)) from None
        elapsed = time.perf_counter() - started
        self.server_clock.sample(response.headers.get("date"), time.time())
        self.latency.record(elapsed, ok=response.status_code < 400)
        self._emit(
            "call",
            {
                "model": op.model,
                "method": op.method,
                "ms": elapsed * 1000,
                "status": response.status_code,
            },
        )
        return response

    def _json(self, response: httpx.Response, op: Operation) -> Any:
        try:
            return response.json()
        except ValueError:
            if op.write:
                raise CauseError(
                    outcome_unknown(
                        op, "Odoo's answer could not be read (not JSON)", response.text[:200]
                    )
                ) from None
            raise CauseError(self._bad_payload(op, response.text[:200])) from None

    def _bad_payload(self, op: Operation, detail: str) -> Cause:
        return Cause(
            code="odoo.unreachable",
            record=op.describe_record(),
            operation=op.label,
            missing=f"Odoo at {self.url} answered {op.label} with something that is not an "
            "Odoo response.",
            detail=redact(str(detail)[:300]),
        )

    def _with_retries(self, op: Operation, attempt_once: Callable[[], Any], retries: bool) -> Any:
        attempts = 1 + (self.read_retries if retries and not op.write else 0)
        for attempt in range(1, attempts + 1):
            try:
                return attempt_once()
            except CauseError as err:
                if attempt >= attempts or err.cause.code not in TRANSIENT:
                    raise
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                delay *= 0.5 + random.random() / 2
                self._emit(
                    "retry",
                    {
                        "model": op.model,
                        "method": op.method,
                        "attempt": attempt,
                        "cause": err.cause.code,
                        "delay": delay,
                    },
                )
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _jsonrpc_call(
        self, service: str, method: str, args: list[Any], op: Operation, *, retries: bool
    ) -> Any:
        def once() -> Any:
            body = {
                "jsonrpc": "2.0",
                "method": "call",
                "id": next(self._ids),
                "params": {"service": service, "method": method, "args": args},
            }
            response = self._send(lambda: self._http.post("/jsonrpc", json=body), op)
            if response.status_code == 404:
                raise _RpcNotFound()
            if response.status_code != 200:
                raise CauseError(
                    http_status_cause(response.status_code, response.text, op, self.url)
                )
            data = self._json(response, op)
            if not isinstance(data, dict) or ("result" not in data and "error" not in data):
                raise CauseError(
                    outcome_unknown(op, "Odoo's answer had no result")
                    if op.write
                    else self._bad_payload(op, str(data))
                )
            if "error" in data:
                error = data["error"] if isinstance(data["error"], dict) else {}
                raw_details = error.get("data")
                details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
                # error.code is meaningless (odoo.md §3.2): classify on data.name
                raise CauseError(
                    classify(
                        details.get("name"), str(details.get("message") or error.get("message")), op
                    )
                )
            return data["result"]

        return self._with_retries(op, once, retries)

    def _json2(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None,
        params: dict[str, Any],
        op: Operation,
        *,
        retries: bool,
    ) -> Any:
        def once() -> Any:
            body = dict(params)
            if ids is not None:
                body["ids"] = list(ids)
            headers = {"Authorization": f"bearer {self.__key}", "X-Odoo-Database": self.database}
            response = self._send(
                lambda: self._http.post(f"/json/2/{model}/{method}", json=body, headers=headers),
                op,
            )
            if response.status_code == 200:
                return self._json(response, op)
            try:
                error = response.json()
            except ValueError:
                error = None
            if isinstance(error, dict) and "name" in error:
                raise CauseError(
                    classify(
                        str(error.get("name")),
                        str(error.get("message", "")),
                        op,
                        status=response.status_code,
                    )
                )
            raise CauseError(http_status_cause(response.status_code, response.text, op, self.url))

        return self._with_retries(op, once, retries)

    # -- the generic call -------------------------------------------------------------------------

    def _context(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        ctx = dict(context or {})
        if self.company_ids and "allowed_company_ids" not in ctx:
            ctx["allowed_company_ids"] = list(self.company_ids)
        return ctx

    def execute(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        positional: Sequence[str] = (),
        args: Sequence[Any] = (),
        context: Mapping[str, Any] | None = None,
        write: bool | None = None,
        stamps: Sequence[str] = (),
        record: str = "",
    ) -> Any:
        """Call ``model.method``; ``params`` are named (JSON-2) and, over JSON-RPC, the names
        in ``positional`` go to ``args`` in that order (``execute_kw`` conventions, §4)."""
        info = self.connect()
        ctx = self._context(context)
        is_write = (method not in READ_METHODS) if write is None else write
        op = Operation(
            model,
            method,
            tuple(ids or ()),
            is_write,
            tuple(stamps),
            record,
            self.login,
            self.database,
            tuple(ctx.get("allowed_company_ids") or ()),
        )
        params = dict(params or {})
        if info.protocol == "json2":
            if args:
                raise ValueError("JSON-2 takes named parameters only (odoo.md §2.3)")
            return self._json2(
                model, method, ids, {**params, "context": ctx}, op, retries=not is_write
            )
        named = dict(params)
        call_args: list[Any] = [list(ids)] if ids is not None else []
        call_args += [named.pop(name) for name in positional if name in named]
        call_args += list(args)
        kwargs = {**named, "context": ctx}
        try:
            return self._jsonrpc_call(
                "object",
                "execute_kw",
                [self.database, info.uid, self.__key, model, method, call_args, kwargs],
                op,
                retries=not is_write,
            )
        except _RpcNotFound:
            # 19+ with RPC switched off (odoo.md §2.2): the 404 means nothing ran; use JSON-2.
            if info.major < 19:
                raise CauseError(http_status_cause(404, "", op, self.url)) from None
            with self._lock:
                self.info = ServerInfo(
                    info.version, info.version_info, info.major, "json2", info.uid
                )
            self._emit(
                "protocol_switched",
                {"from": "jsonrpc", "to": "json2", "reason": "HTTP 404 on /jsonrpc"},
            )
            return self.execute(
                model,
                method,
                ids,
                params,
                positional=positional,
                args=args,
                context=context,
                write=write,
                stamps=stamps,
                record=record,
            )

    # -- fields ------------------------------------------------------------------------------------

    def fields(self, model: str) -> dict[str, dict[str, Any]]:
        """``fields_get`` of ``model``, asked once per connection."""
        with self._lock:
            cached = self._fields.get(model)
        if cached is not None:
            return cached
        result = self.execute(
            model,
            "fields_get",
            params={
                "attributes": [
                    "type",
                    "string",
                    "relation",
                    "required",
                    "selection",
                    "relation_field",
                ]
            },
        )
        if not isinstance(result, dict):
            raise CauseError(self._bad_payload(Operation(model, "fields_get"), str(result)))
        with self._lock:
            self._fields[model] = result
        return result

    def field_name(self, model: str, logical: str) -> str | None:
        """The field this server uses for a logical field (``("sale.order.line", "taxes")``
        → ``tax_ids`` or ``tax_id``), learnt from ``fields_get``; ``None`` if absent."""
        candidates = LOGICAL_FIELDS.get((model, logical), (logical,))
        existing = self.fields(model)
        return next((c for c in candidates if c in existing), None)

    def storable_values(self) -> dict[str, Any]:
        """Values that make a product storable on this server (odoo.md §1)."""
        name = self.field_name("product.product", "storable")
        if name == "is_storable":
            return {"type": "consu", "is_storable": True}
        return {"type": "product", "detailed_type": "product"}

    def is_storable(self, product: Mapping[str, Any]) -> bool:
        """Whether a read product is storable, whichever field this server has."""
        if "is_storable" in product:
            return bool(product["is_storable"])
        return product.get("detailed_type", product.get("type")) == "product"

    def done_values(self, quantity: float) -> dict[str, Any]:
        """stock.move values marking ``quantity`` as done (16) or picked (17+)."""
        if self.field_name("stock.move", "done_qty") == "quantity_done":
            return {"quantity_done": quantity}
        return {"quantity": quantity, "picked": True}

    # -- reads -----------------------------------------------------------------------------------

    def search_read(
        self,
        model: str,
        domain: Sequence[Any] = (),
        fields: Sequence[str] | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
        page_size: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``search_read``; with ``page_size``, fetches page after page until done."""
        if not page_size:
            return self._search_read_once(model, domain, fields, limit, offset, order, context)
        out: list[dict[str, Any]] = []
        while limit is None or len(out) < limit:
            size = page_size if limit is None else min(page_size, limit - len(out))
            page = self._search_read_once(
                model, domain, fields, size, offset + len(out), order or "id", context
            )
            out += page
            if len(page) < size:
                break
        return out

    def _search_read_once(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str] | None,
        limit: int | None,
        offset: int,
        order: str | None,
        context: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "domain": [list(t) if isinstance(t, tuple) else t for t in domain]
        }
        if fields is not None:
            params["fields"] = list(fields)
        if limit:
            params["limit"] = limit
        if offset:
            params["offset"] = offset
        if order:
            params["order"] = order
        result = self.execute(
            model, "search_read", params=params, positional=("domain",), context=context
        )
        return self._expect_list(result, model, "search_read")

    def search_read_in(
        self,
        model: str,
        field: str,
        values: Iterable[Any],
        fields: Sequence[str] | None = None,
        *,
        domain: Sequence[Any] = (),
        chunk: int = 500,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Records whose ``field`` is in ``values``: one ``in`` call per ``chunk`` values."""
        out: list[dict[str, Any]] = []
        for part in chunks(values, chunk):
            out += self.search_read(model, [(field, "in", part), *domain], fields, context=context)
        return out

    def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for part in chunks(ids, 500):
            params = {"fields": list(fields)} if fields is not None else {}
            out += self._expect_list(
                self.execute(model, "read", part, params, context=context), model, "read"
            )
        return out

    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        *,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        params: dict[str, Any] = {
            "domain": [list(t) if isinstance(t, tuple) else t for t in domain]
        }
        if limit:
            params["limit"] = limit
        if order:
            params["order"] = order
        result = self.execute(
            model, "search", params=params, positional=("domain",), context=context
        )
        return [int(i) for i in self._expect_list(result, model, "search")]

    def search_count(
        self, model: str, domain: Sequence[Any] = (), *, context: Mapping[str, Any] | None = None
    ) -> int:
        params = {"domain": [list(t) if isinstance(t, tuple) else t for t in domain]}
        result = self.execute(
            model, "search_count", params=params, positional=("domain",), context=context
        )
        if not isinstance(result, int):
            raise CauseError(self._bad_payload(Operation(model, "search_count"), str(result)))
        return result

    def _expect_list(self, result: Any, model: str, method: str) -> list[Any]:
        if not isinstance(result, list):
            raise CauseError(self._bad_payload(Operation(model, method), str(result)[:200]))
        return result

    # -- writes ----------------------------------------------------------------------------------

    def create(
        self,
        model: str,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        record: str = "",
    ) -> int | list[int]:
        """Create one record (→ id) or several (→ ids in order), whatever the protocol returns
        (JSON-RPC: int for a dict; JSON-2: always a list — odoo.md §4). Not stamped: prefer
        :meth:`create_stamped` for anything a retry could duplicate."""
        single = isinstance(values, Mapping)
        vals_list = [dict(values)] if isinstance(values, Mapping) else [dict(v) for v in values]
        info = self.connect()
        params = {
            "vals_list": vals_list if info.protocol == "json2" or not single else vals_list[0]
        }
        result = self.execute(
            model,
            "create",
            params=params,
            positional=("vals_list",),
            context=context,
            record=record,
        )
        ids = result if isinstance(result, list) else [result]
        if not all(isinstance(i, int) for i in ids) or len(ids) != len(vals_list):
            raise CauseError(
                outcome_unknown(
                    Operation(model, "create", write=True), "Odoo's answer did not list the new ids"
                )
            )
        return ids[0] if single else [int(i) for i in ids]

    def write(
        self,
        model: str,
        ids: Sequence[int],
        values: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        record: str = "",
    ) -> bool:
        result = self.execute(
            model,
            "write",
            list(ids),
            {"vals": dict(values)},
            positional=("vals",),
            context=context,
            record=record,
        )
        return bool(result)

    def unlink(
        self, model: str, ids: Sequence[int], *, context: Mapping[str, Any] | None = None
    ) -> bool:
        return bool(self.execute(model, "unlink", list(ids), context=context))

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        *args: Any,
        context: Mapping[str, Any] | None = None,
        record: str = "",
        **kwargs: Any,
    ) -> Any:
        """A public method (``action_confirm``, ``button_validate``, ``action_post`` …).

        Returns what Odoo returns: ``True``/``False`` or an action dict (a wizard) — check it.
        Positional ``args`` work over JSON-RPC only; JSON-2 takes ``kwargs``.
        """
        if method.startswith("_"):
            raise ValueError(f"{method} is private: Odoo refuses it remotely")
        return self.execute(
            model,
            method,
            list(ids) if ids is not None else None,
            kwargs,
            args=args,
            context=context,
            record=record,
        )

    def validate_picking(
        self, picking_id: int, *, backorder: bool = False, context: Mapping[str, Any] | None = None
    ) -> bool:
        """Validate a transfer, answering the wizards each version may return (odoo.md §6):
        the immediate-transfer wizard (16, nothing done) and the backorder wizard (partial;
        ``backorder`` decides between a backorder and none)."""
        result: Any = self.call("stock.picking", "button_validate", [picking_id], context=context)
        for _ in range(3):
            if not isinstance(result, dict):
                return result is not False
            wizard = str(result.get("res_model") or "")
            wctx = {**(context or {}), **(result.get("context") or {})}
            if wizard == "stock.immediate.transfer":
                method = "process"
            elif wizard == "stock.backorder.confirmation":
                method = "process" if backorder else "process_cancel_backorder"
            else:
                raise CauseError(
                    classify(
                        "odoo.exceptions.UserError",
                        f"unexpected wizard {wizard!r}",
                        Operation("stock.picking", "button_validate", (picking_id,), True),
                    )
                )
            wizard_id = self.create(wizard, {}, context=wctx)
            result = self.call(
                wizard,
                method,
                [int(wizard_id)],  # type: ignore[arg-type]
                context=wctx,
            )
        return result is True

    # -- stock and deliveries (odoo/stock.py) -----------------------------------------------------

    def stock_layout(self) -> stock.StockLayout:
        """Warehouses with addresses and the internal location tree (3 calls)."""
        return stock.stock_layout(self)

    def stock_levels(
        self,
        product_ids: Iterable[int],
        location_sets: Mapping[Any, Sequence[int]],
        *,
        layout: stock.StockLayout | None = None,
    ) -> dict[tuple[int, Any], stock.StockQuantity]:
        """On hand / reserved / free per (product, set of locations): 1 call per 1000
        products (+3 for the layout when not given)."""
        return stock.stock_levels(self, product_ids, location_sets, layout=layout)

    def changed_quants(
        self, since: datetime, *, overlap: timedelta = stock.DEFAULT_OVERLAP, page_size: int = 1000
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of internal quants written since ``since - overlap`` (1 call per page)."""
        return stock.changed_quants(self, since, overlap=overlap, page_size=page_size)

    def done_moves(
        self, since: datetime, *, overlap: timedelta = stock.DEFAULT_OVERLAP, page_size: int = 1000
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of done stock moves written since ``since - overlap`` (1 call per page)."""
        return stock.done_moves(self, since, overlap=overlap, page_size=page_size)

    def done_pickings(
        self,
        since: datetime,
        *,
        overlap: timedelta = stock.DEFAULT_OVERLAP,
        states: Sequence[str] = ("done",),
        page_size: int = 200,
    ) -> Iterator[list[stock.Picking]]:
        """Pages of done deliveries and their returns with moves, order, carrier, tracking
        (3 calls per page)."""
        return stock.done_pickings(self, since, overlap=overlap, states=states, page_size=page_size)

    def pickings(self, ids: Sequence[int]) -> list[stock.Picking]:
        """Transfers by id as they are now, with moves, order, carrier, tracking (3 calls)."""
        return stock.pickings(self, ids)

    # -- stamps (DESIGN §3.4, odoo.md §5) ---------------------------------------------------------

    def find_stamps(self, names: Iterable[str]) -> dict[str, tuple[str, int]]:
        """``{name: (model, id)}`` for the console stamps that exist, in one call per 500."""
        found: dict[str, tuple[str, int]] = {}
        for part in chunks((check_stamp(n) for n in names), 500):
            rows = self.search_read(
                "ir.model.data",
                [("module", "=", STAMP_MODULE), ("name", "in", part)],
                ["name", "model", "res_id"],
            )
            for row in rows:
                found[str(row["name"])] = (str(row["model"]), int(row["res_id"]))
        return found

    def find_stamped(
        self, model: str, names: Iterable[str], *, verify: bool = False
    ) -> dict[str, int]:
        """``{name: id}`` of ``model`` records carrying these stamps; with ``verify``, a
        second call drops stamps whose record is gone."""
        found = {n: rid for n, (m, rid) in self.find_stamps(names).items() if m == model}
        if verify and found:
            alive = set(
                self.search(
                    model,
                    [("id", "in", sorted(set(found.values())))],
                    context={"active_test": False},
                )
            )
            found = {n: rid for n, rid in found.items() if rid in alive}
        return found

    def stamps_on(self, model: str, ids: Iterable[int], prefix: str) -> dict[int, list[str]]:
        """The console stamps named ``prefix…`` on these records: ``{record id: [names]}``,
        one call per 500 records (a record may carry several stamps)."""
        found: dict[int, list[str]] = {}
        for part in chunks(ids, 500):
            rows = self.search_read(
                "ir.model.data",
                [
                    ("module", "=", STAMP_MODULE),
                    ("model", "=", model),
                    ("res_id", "in", part),
                    ("name", "=like", prefix + "%"),  # "_" matches any one character:
                ],
                ["name", "res_id"],
            )
            for row in rows:  # … so the prefix is checked again here
                if str(row["name"]).startswith(prefix):
                    found.setdefault(int(row["res_id"]), []).append(str(row["name"]))
        return found

    def stamp_records(
        self, model: str, stamps: Mapping[str, int], *, record: str = ""
    ) -> dict[str, int]:
        """Give existing records a console stamp each (``{name: record id}``) in one call.

        For a record the console did not create but now answers for (a delivery shipped as a
        Shopify fulfillment): the stamp says so in Odoo. A stamp already there for the same
        record is adopted (a retry after a lost answer, or another worker a moment earlier);
        one naming another record is an ``odoo.validation`` cause (two records cannot be the
        same remote one). Returns the stamps that now exist for their record.
        """
        names = {check_stamp(n): int(i) for n, i in stamps.items()}
        if not names:
            return {}
        existing = self.find_stamps(names)
        clash = [n for n, (m, i) in existing.items() if (m, i) != (model, names[n])]
        if clash:
            other = existing[clash[0]]
            raise CauseError(
                classify(
                    "odoo.exceptions.ValidationError",
                    f"the stamp {STAMP_MODULE}.{clash[0]} already names {other[0]} {other[1]}, "
                    f"not {model} {names[clash[0]]}",
                    Operation("ir.model.data", "create", (), True, (clash[0],), record),
                )
            )
        missing = [n for n in names if n not in existing]
        values = [
            {
                "module": STAMP_MODULE,
                "name": n,
                "model": model,
                "res_id": names[n],
                "noupdate": True,
            }
            for n in missing
        ]
        if values:
            try:
                self.create("ir.model.data", values, record=record)
            except CauseError as exc:
                if exc.cause.code != "odoo.stamp_taken":
                    raise
                return self.stamp_records(model, stamps, record=record)  # the winner's: adopt
        return dict(names)

    def create_stamped(
        self,
        model: str,
        name: str,
        values: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        record: str = "",
    ) -> int:
        """Create ``model`` with its one2many lines and the stamp ``shopodoo.<name>`` in one
        Odoo transaction. If the stamp exists already, its record's id comes back unchanged."""
        return self.create_stamped_many(model, [(name, values)], context=context, record=record)[
            name
        ]

    def create_stamped_many(
        self,
        model: str,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        context: Mapping[str, Any] | None = None,
        record: str = "",
    ) -> dict[str, int]:
        """Stamped creates of several records in one ``load()`` call, all or nothing.

        ``load`` with ``mode='update'`` and ``noupdate`` in the context creates what is new
        and returns existing stamped records untouched (``_load_records``, odoo.md §4), so a
        retry after ``odoo.outcome_unknown`` cannot duplicate or overwrite anything.
        """
        if not items:
            return {}
        names = [check_stamp(n) for n, _ in items]
        if len(set(names)) != len(names):
            raise ValueError("duplicate stamp names in one batch")
        fields, data = load_payload(model, items, self.fields)
        ctx = {**(context or {}), "mode": "update", "noupdate": True}
        stamps = tuple(f"{STAMP_MODULE}.{n}" for n in names)
        result = self.execute(
            model,
            "load",
            params={"fields": fields, "data": data},
            positional=("fields", "data"),
            context=ctx,
            write=True,
            stamps=stamps,
            record=record,
        )
        op = Operation(
            model,
            "load",
            (),
            True,
            stamps,
            record,
            self.login,
            self.database,
            tuple(self._context(ctx).get("allowed_company_ids") or ()),
        )
        if not isinstance(result, dict):
            raise CauseError(outcome_unknown(op, "Odoo's answer to load() was not readable"))
        ids = result.get("ids")
        messages = [m for m in result.get("messages") or [] if isinstance(m, dict)]
        errors = [m for m in messages if m.get("type") == "error"]
        if errors or not isinstance(ids, list):
            raise CauseError(self._load_error(errors, names, op))
        if len(ids) != len(names):
            raise CauseError(outcome_unknown(op, "load() returned a different number of ids"))
        return {n: int(i) for n, i in zip(names, ids, strict=True)}

    def _load_error(self, errors: list[dict[str, Any]], names: list[str], op: Operation) -> Cause:
        """``load`` reports errors as messages, not exceptions: classify the first one by its
        text, name the record it was about."""
        first = errors[0] if errors else {"message": "load() created nothing"}
        index = first.get("record")
        name = names[index] if isinstance(index, int) and 0 <= index < len(names) else None
        one = Operation(
            op.model,
            "load",
            (),
            True,
            (f"{STAMP_MODULE}.{name}",) if name else op.stamps,
            op.record,
            op.login,
            op.database,
            op.companies,
        )
        text = str(first.get("message") or "")
        name_hint = _message_class(text)
        cause = classify(name_hint, text, one)
        if len(errors) > 1:
            more = "; ".join(str(e.get("message", ""))[:120] for e in errors[1:4])
            cause = Cause.from_dict(
                {**cause.to_dict(), "detail": redact(f"{text}\n(also: {more})")}
            )
        if cause.code == "odoo.stamp_taken":
            return cause  # the winner's record exists: its own note says so
        return Cause.from_dict(
            {**cause.to_dict(), "retry_note": "load() is all or nothing: nothing was created"}
        )


def _message_class(text: str) -> str:
    """The exception class a ``load`` message came from, guessed from Odoo's wording."""
    low = text.lower()
    if (
        low.startswith("you are not allowed to")
        or "unauthorized or invalid companies" in low
        or "top-secret records" in low
        or "due to security restrictions" in low
    ):
        return "odoo.exceptions.AccessError"
    if "does not exist or has been deleted" in low:
        return "odoo.exceptions.MissingError"
    if "could not serialize access" in low:
        return "psycopg2.errors.SerializationFailure"
    return "odoo.exceptions.ValidationError"


def _scrub(exc: Exception) -> Exception:
    """httpx errors may quote the request; keep only a redacted text."""
    try:
        return type(exc)(redact(str(exc)))
    except TypeError:
        return RuntimeError(redact(str(exc)))


class _RpcNotFound(Exception):
    """HTTP 404 on /jsonrpc: RPC switched off on a 19+ server (odoo.md §2.2)."""


def dumps_for_log(value: Any) -> str:
    """A redacted JSON dump for debug logs (request bodies carry the key over JSON-RPC)."""
    return redact(json.dumps(value, default=str))
