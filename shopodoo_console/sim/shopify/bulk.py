"""Bulk operations: run a query in the background, serve its JSONL result (shopify.md §8.8).

``bulkOperationRunQuery`` checks the inner query (:mod:`.bulk_query`) and the concurrency
limit per app and shop (five query operations from API 2026-01, one before), then a worker
thread walks the status ``CREATED → RUNNING → COMPLETED`` (or ``CANCELING → CANCELED``,
``FAILED`` with an ``errorCode``, ``EXPIRED`` once the URL's time is up) while writing the
JSONL file; ``objectCount``/``rootObjectCount`` grow as it goes. The result is served over HTTP
at a signed-looking URL (GCS style: ``Expires`` + ``Signature``) that stops working when it
expires; a failed operation that wrote something has a ``partialDataUrl``.

Fault hooks (:class:`BulkFault`, ``POST /_sim/bulk/add_fault``): ``fail`` (FAILED with an
error code after N root objects), ``expire`` (the result URL lives ``url_ttl`` seconds),
``slow`` (N root objects per second) and ``hold`` (stop after N root objects until
``release``). Shapes and messages follow the captures in ``2026-04/bulk-operations/``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import shutil
import tempfile
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from graphql import GraphQLError, GraphQLSchema, execute

from . import bulk_query, search
from .resolvers import Context, filtered, paginate
from .state import Store
from .util import iso, legacy, now

IN_PROGRESS = ("CREATED", "RUNNING", "CANCELING")
TERMINAL = ("COMPLETED", "CANCELED", "FAILED", "EXPIRED")
ERROR_CODES = ("ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT")
URL_TTL = 7 * 24 * 3600.0  # "url and partialDataUrl values expire after seven days"
OUTPUT_PATH = "/shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/"
ACCESS_ID = "assets-us-prod%40shopify-tiers.iam.gserviceaccount.com"
FAULT_ACTIONS = ("fail", "expire", "slow", "hold")


@dataclass
class BulkFault:
    """A planned misbehaviour for the next ``times`` operations (or one ``operation`` GID)."""

    action: str
    operation: str | None = None
    times: int | None = 1
    error_code: str = "INTERNAL_SERVER_ERROR"
    after_objects: int = 0
    rate: float = 0.0
    url_ttl: float = 0.0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.action not in FAULT_ACTIONS:
            raise ValueError(f"unknown bulk fault {self.action!r}; use one of {FAULT_ACTIONS}")
        if self.error_code not in ERROR_CODES:
            raise ValueError(f"unknown error code {self.error_code!r}; use one of {ERROR_CODES}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BulkFault:
        unknown = set(data) - ({f.name for f in fields(cls)} - {"fired"})
        if unknown:
            raise ValueError(f"unknown bulk fault fields: {sorted(unknown)}")
        return cls(**data)


@dataclass
class Operation:
    """One bulk operation, as the worker and the resolvers share it (guarded by the lock)."""

    id: str
    app: str
    query: str
    group_objects: bool
    scopes: frozenset[str]
    created_at: str
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(14))
    path: Path | None = None
    partial: bool = False
    expires_at: float | None = None
    faults: list[BulkFault] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def fault(self, action: str) -> BulkFault | None:
        return next((f for f in self.faults if f.action == action), None)


class BulkOperations:
    """Every app's bulk operations on one simulated shop, and the files they produced."""

    def __init__(
        self,
        store: Store,
        *,
        page_size: int = 1000,
        start_delay: float = 0.05,
        url_ttl: float = URL_TTL,
    ) -> None:
        self.store = store
        self.page_size = page_size
        self.start_delay = start_delay
        self.url_ttl = url_ttl
        self.base_url = ""  # set by the server once it listens
        self._lock = threading.RLock()
        self._operations: dict[str, Operation] = {}
        self._faults: list[BulkFault] = []
        self._secret = secrets.token_bytes(32)
        self._folder = Path(tempfile.mkdtemp(prefix="shopify-sim-bulk-"))
        self._threads: list[threading.Thread] = []
        weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)

    def stop(self) -> None:
        """Cancel every running operation and wait for its worker (the files stay until the
        simulator object is collected)."""
        with self._lock:
            operations = [op for op in self._operations.values() if op.status in IN_PROGRESS]
        for operation in operations:
            operation.cancel.set()
            operation.release.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]

    # -- the API ---------------------------------------------------------------------------

    def run_query(
        self,
        schema: GraphQLSchema,
        *,
        app: str,
        scopes: frozenset[str],
        api_version: str,
        query: str,
        group_objects: bool,
    ) -> dict[str, Any]:
        """``bulkOperationRunQuery``: a new operation, or userErrors (INVALID, IN_PROGRESS)."""
        try:
            plan = bulk_query.plan(schema, query)
        except bulk_query.InvalidBulkQuery as exc:
            errors = [{"field": ["query"], "message": m, "code": "INVALID"} for m in exc.messages]
            return {"bulkOperation": None, "userErrors": errors}
        with self._lock:
            running = [
                op
                for op in self._operations.values()
                if op.app == app and self._status(op) in IN_PROGRESS
            ]
            if len(running) >= concurrency_limit(api_version):
                ids = ", ".join(op.id for op in running)
                message = (
                    f"A bulk query operation for this app and shop is already in progress: {ids}."
                )
                error = {"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}
                return {"bulkOperation": None, "userErrors": [error]}
            operation = Operation(
                id=self.store.new_gid("BulkOperation"),
                app=app,
                query=query,
                group_objects=group_objects,
                scopes=scopes,
                created_at=iso(now()),
            )
            operation.faults = self._take_faults(operation.id)
            self._operations[operation.id] = operation
            record = self._public(operation)
        worker = threading.Thread(
            target=self._work,
            args=(operation, plan, schema),
            name=f"bulk-{legacy(operation.id)}",
            daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [worker]
        worker.start()
        return {"bulkOperation": record, "userErrors": []}

    def cancel(self, app: str, id: str) -> dict[str, Any]:
        """``bulkOperationCancel``: CANCELING now, CANCELED at the worker's next step."""
        with self._lock:
            operation = self._operations.get(id)
            if operation is None or operation.app != app:
                error = {"field": ["id"], "message": "Bulk operation does not exist"}
                return {"bulkOperation": None, "userErrors": [error]}
            status = self._status(operation)
            if status in TERMINAL:
                message = f"A bulk operation cannot be canceled when it is {status.lower()}"
                return {
                    "bulkOperation": self._public(operation),
                    "userErrors": [{"field": None, "message": message}],
                }
            operation.status = "CANCELING"
            operation.cancel.set()
            return {"bulkOperation": self._public(operation), "userErrors": []}

    def get(self, app: str, id: str) -> dict[str, Any] | None:
        with self._lock:
            operation = self._operations.get(id)
            if operation is None or operation.app != app:
                return None
            return self._public(operation)

    def records(self, app: str) -> list[dict[str, Any]]:
        with self._lock:
            return [self._public(op) for op in self._operations.values() if op.app == app]

    # -- control (tests, demo) -------------------------------------------------------------

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        fault = BulkFault.from_dict(rule)
        with self._lock:
            self._faults.append(fault)
        return asdict(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire(self, id: str) -> str:
        """The result URL of an operation expires now; returns the new status."""
        with self._lock:
            operation = self._operation(id)
            operation.expires_at = time.time()
            return self._status(operation)

    def release(self, id: str | None = None) -> int:
        """Let held operations (``hold`` faults) go on; returns how many were released."""
        with self._lock:
            held = [
                op
                for op in self._operations.values()
                if (id is None or op.id == id) and not op.release.is_set()
            ]
            for op in held:
                op.release.set()
            return len(held)

    def set_url_ttl(self, seconds: float) -> float:
        self.url_ttl = float(seconds)
        return self.url_ttl

    def snapshot(self) -> list[dict[str, Any]]:
        """Every operation with its app, for assertions."""
        with self._lock:
            return [{**self._public(op), "app": op.app} for op in self._operations.values()]

    CONTROL = ("add_fault", "clear_faults", "expire", "release", "set_url_ttl", "snapshot")

    def call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        if name not in self.CONTROL:
            raise ValueError(f"unknown bulk control method {name!r}")
        method: Callable[..., Any] = getattr(self, name)
        return method(**arguments)

    # -- the result files ------------------------------------------------------------------

    def download(self, path: str, query: str, range_header: str | None) -> Download:
        """A GET on a result URL: the file (or a byte range of it), or GCS's XML error."""
        token = path.removeprefix(OUTPUT_PATH)
        params = dict(urllib.parse.parse_qsl(query))
        try:
            expires = int(params.get("Expires", ""))
        except ValueError:
            return _gcs_error(400, "MissingSecurityHeader", "Missing Expires parameter.")
        if not hmac.compare_digest(params.get("Signature", ""), self._sign(token, expires)):
            return _gcs_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your Google secret key and signing method.",
            )
        with self._lock:
            operation = next((op for op in self._operations.values() if op.token == token), None)
            target = operation.path if operation is not None else None
            if operation is not None and operation.expires_at is not None:
                expires = min(expires, int(operation.expires_at))  # expired on purpose
        if time.time() >= expires:
            return _gcs_error(
                400,
                "ExpiredToken",
                "The provided token has expired.",
                f"Request signature expired at: {iso_epoch(expires)}",
            )
        if target is None or not target.exists():
            return _gcs_error(404, "NoSuchKey", "The specified key does not exist.")
        return _file_range(target, range_header)

    def _sign(self, token: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{token}:{expires}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def _url(self, operation: Operation) -> str:
        assert operation.expires_at is not None
        expires = int(operation.expires_at)
        number = legacy(operation.id)
        disposition = urllib.parse.quote_plus(
            f"attachment; filename=\"bulk-{number}.jsonl\"; filename*=UTF-8''bulk-{number}.jsonl"
        )
        signature = urllib.parse.quote(self._sign(operation.token, expires), safe="")
        return (
            f"{self.base_url}{OUTPUT_PATH}{operation.token}?GoogleAccessId={ACCESS_ID}"
            f"&Expires={expires}&Signature={signature}"
            f"&response-content-disposition={disposition}"
            "&response-content-type=application%2Fjsonl"
        )

    # -- state -------------------------------------------------------------------------------

    def _operation(self, id: str) -> Operation:
        operation = self._operations.get(id)
        if operation is None:
            raise ValueError(f"no bulk operation {id}")
        return operation

    def _status(self, operation: Operation) -> str:
        """The status now: a finished operation whose URL ran out is EXPIRED."""
        if (
            operation.status in ("COMPLETED", "FAILED")
            and operation.expires_at is not None
            and time.time() >= operation.expires_at
        ):
            operation.status = "EXPIRED"
        return operation.status

    def _public(self, operation: Operation) -> dict[str, Any]:
        status = self._status(operation)
        ready = operation.expires_at is not None and status in ("COMPLETED", "FAILED")
        return {
            "__typename": "BulkOperation",
            "id": operation.id,
            "status": status,
            "type": "QUERY",
            "errorCode": operation.error_code,
            "createdAt": operation.created_at,
            "completedAt": operation.completed_at,
            "objectCount": str(operation.object_count),
            "rootObjectCount": str(operation.root_object_count),
            "fileSize": str(operation.file_size) if operation.file_size is not None else None,
            "url": self._url(operation) if ready and status == "COMPLETED" else None,
            "partialDataUrl": self._url(operation)
            if ready and status == "FAILED" and operation.partial
            else None,
            "query": operation.query,
        }

    def _take_faults(self, operation_id: str) -> list[BulkFault]:
        taken = []
        for fault in self._faults:
            if fault.operation not in (None, operation_id):
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            fault.fired += 1
            taken.append(fault)
        return taken

    def _finish(
        self,
        operation: Operation,
        status: str,
        *,
        error_code: str | None = None,
        ttl: float | None = None,
    ) -> None:
        with self._lock:
            operation.status = status
            operation.error_code = error_code
            if status == "COMPLETED":
                operation.completed_at = iso(now())
            if status in ("COMPLETED", "FAILED") and operation.path is not None:
                operation.file_size = operation.path.stat().st_size
                operation.partial = status == "FAILED" and operation.object_count > 0
                expire = operation.fault("expire")
                lifetime = expire.url_ttl if expire is not None else ttl
                if lifetime is None:
                    lifetime = self.url_ttl
                operation.expires_at = time.time() + lifetime
            if status == "CANCELED" and operation.path is not None:
                operation.path.unlink(missing_ok=True)
                operation.path = None

    # -- the worker --------------------------------------------------------------------------

    def _work(self, operation: Operation, plan: bulk_query.Plan, schema: GraphQLSchema) -> None:
        try:
            self._run(operation, plan, schema)
        except Exception:  # a simulator bug fails the operation, as a server error would
            self._finish(operation, "FAILED", error_code="INTERNAL_SERVER_ERROR")

    def _run(self, operation: Operation, plan: bulk_query.Plan, schema: GraphQLSchema) -> None:
        if operation.cancel.wait(self.start_delay):
            self._finish(operation, "CANCELED")
            return
        with self._lock:
            if operation.status == "CREATED":
                operation.status = "RUNNING"
            operation.path = self._folder / f"{operation.token}.jsonl"
        with operation.path.open("w", encoding="utf-8") as out:
            status, error_code = self._pages(operation, plan, schema, out)
        self._finish(operation, status, error_code=error_code)

    def _pages(
        self, operation: Operation, plan: bulk_query.Plan, schema: GraphQLSchema, out: IO[str]
    ) -> tuple[str, str | None]:
        """Write the result page by page; the status (and error code) it ends with."""
        slow = operation.fault("slow")
        page = self.page_size
        if slow is not None and slow.rate > 0:
            page = max(1, min(page, int(slow.rate / 10) or 1))
        after: str | None = None
        while True:
            stop = self._stop_point(operation)
            if stop is not None and operation.root_object_count >= stop:
                ended = self._stopped(operation)
                if ended is not None:
                    return ended
                continue
            if operation.cancel.is_set():
                return "CANCELED", None
            size = page if stop is None else min(page, stop - operation.root_object_count)
            connection, error = self._page(operation, plan, schema, size, after)
            if error is not None:
                return "FAILED", error
            lines = bulk_query.lines_of_page(plan, schema, connection, operation.group_objects)
            out.write("".join(line + "\n" for line in lines.text(operation.group_objects)))
            out.flush()
            with self._lock:
                operation.object_count += lines.objects
                operation.root_object_count += lines.root_count
            if slow is not None and slow.rate > 0:
                operation.cancel.wait(lines.root_count / slow.rate)
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return "COMPLETED", None
            after = info.get("endCursor") or after

    def _stopped(self, operation: Operation) -> tuple[str, str | None] | None:
        """At a fault's stop point: FAILED (``fail``), CANCELED, or ``None`` once released."""
        fail = operation.fault("fail")
        if fail is not None and operation.root_object_count >= fail.after_objects:
            return "FAILED", fail.error_code
        self._hold(operation)
        return ("CANCELED", None) if operation.cancel.is_set() else None

    def _stop_point(self, operation: Operation) -> int | None:
        """Where a ``fail`` or (unreleased) ``hold`` fault stops the operation, if anywhere."""
        points = []
        fail, hold = operation.fault("fail"), operation.fault("hold")
        if fail is not None:
            points.append(fail.after_objects)
        if hold is not None and not operation.release.is_set():
            points.append(hold.after_objects)
        return min(points) if points else None

    def _hold(self, operation: Operation) -> None:
        """Wait while a ``hold`` fault stops the operation (until released or cancelled)."""
        while not operation.release.wait(0.05):
            if operation.cancel.is_set():
                return

    def _page(
        self,
        operation: Operation,
        plan: bulk_query.Plan,
        schema: GraphQLSchema,
        size: int,
        after: str | None,
    ) -> tuple[dict[str, Any], str | None]:
        """One page of the root connection, or the error code that fails the operation."""
        document = bulk_query.page_document(plan, schema, size, after)
        context = Context(store=self.store, scopes=operation.scopes)
        with self.store.lock:
            result = execute(schema, document, context_value=context)
        assert not hasattr(result, "__await__")
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
        if errors:
            denied = any((e.extensions or {}).get("code") == "ACCESS_DENIED" for e in errors)
            return {}, "ACCESS_DENIED" if denied else "INTERNAL_SERVER_ERROR"
        data = getattr(result, "data", None) or {}
        key = plan.root.alias.value if plan.root.alias else plan.root.name.value
        return data.get(key) or {}, None


def concurrency_limit(api_version: str) -> int:
    """Five bulk query operations per app and shop from 2026-01, one before (shopify.md §8.8)."""
    return 5 if api_version == "unstable" or api_version >= "2026-01" else 1


def iso_epoch(seconds: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(seconds))


@dataclass
class Download:
    """What the HTTP handler sends for a result URL."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    path: Path | None = None
    start: int = 0
    length: int = 0


def _gcs_error(status: int, code: str, message: str, details: str = "") -> Download:
    extra = f"<Details>{details}</Details>" if details else ""
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
        f"<Message>{message}</Message>{extra}</Error>"
    ).encode()
    return Download(status, {"Content-Type": "application/xml; charset=UTF-8"}, body)


def _file_range(path: Path, range_header: str | None) -> Download:
    size = path.stat().st_size
    headers = {"Content-Type": "application/jsonl", "Accept-Ranges": "bytes"}
    if range_header and range_header.startswith("bytes="):
        first, _, last = range_header.removeprefix("bytes=").partition("-")
        try:
            start = int(first)
            end = int(last) if last else size - 1
        except ValueError:
            start, end = 0, size - 1
        if start >= size:
            headers["Content-Range"] = f"bytes */{size}"
            return Download(416, headers)
        end = min(end, size - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Download(206, headers, path=path, start=start, length=end - start + 1)
    return Download(200, headers, path=path, start=0, length=size)


# -- resolvers -------------------------------------------------------------------------------


def _bulk(info: Any) -> BulkOperations:
    manager = info.context.bulk
    if manager is None:
        raise GraphQLError("Bulk operations are not available on this server.")
    assert isinstance(manager, BulkOperations)
    return manager


def resolve_run_query(_root: Any, info: Any, query: str, groupObjects: bool = False) -> Any:
    ctx = info.context
    return _bulk(info).run_query(
        info.schema,
        app=ctx.app,
        scopes=ctx.scopes,
        api_version=ctx.api_version,
        query=query,
        group_objects=groupObjects,
    )


def resolve_cancel(_root: Any, info: Any, id: str) -> Any:
    return _bulk(info).cancel(info.context.app, id)


def resolve_bulk_operation(_root: Any, info: Any, id: str) -> Any:
    return _bulk(info).get(info.context.app, id)


def _fields(store: Store) -> dict[str, search.Matcher]:
    return {
        "status": search.text_matcher(lambda r: r["status"].lower()),
        "operation_type": search.text_matcher(lambda r: r["type"].lower()),
        "created_at": search.time_matcher("createdAt", store.tz),
        "id": search.id_matcher(lambda r: legacy(r["id"])),
    }


SORT = {"CREATED_AT": "createdAt", "COMPLETED_AT": "completedAt"}


def resolve_bulk_operations(_root: Any, info: Any, **args: Any) -> Any:
    """Newest first by default ("Defaults to sorting by created_at, with newest first")."""
    manager = _bulk(info)
    records = filtered(
        info, manager.records(info.context.app), args.get("query"), _fields(manager.store)
    )
    attribute = SORT.get(args.get("sortKey") or "CREATED_AT", "createdAt")
    flipped = {**args, "reverse": not args.get("reverse")}
    return paginate(records, flipped, lambda r: r.get(attribute) or "")


RESOLVERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("Mutation", "bulkOperationRunQuery"): resolve_run_query,
    ("Mutation", "bulkOperationCancel"): resolve_cancel,
    ("QueryRoot", "bulkOperation"): resolve_bulk_operation,
    ("QueryRoot", "bulkOperations"): resolve_bulk_operations,
}


def install(schema: GraphQLSchema) -> None:
    for (type_name, field_name), resolver in RESOLVERS.items():
        type_ = schema.type_map.get(type_name)
        fields_ = getattr(type_, "fields", {})
        if field_name in fields_:
            fields_[field_name].resolve = resolver
