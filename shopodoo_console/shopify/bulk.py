"""Shopify bulk operations from the console's side (shopify.md §8.8): start, poll, download.

A bulk query reads a whole period for ~11 points: 10 for ``bulkOperationRunQuery`` and 1 per
poll, whatever the size of the result. The result is a JSONL file behind a signed URL, read
here as a stream (one line at a time, never the whole file in memory); each record carries
the byte offset where the next one starts, so a caller that saved it resumes with an HTTP
range after a kill instead of starting over. Starting is idempotent in practice: an operation
already running with the same query text is adopted, also after a lost answer.

Every failure state is a :class:`~shopodoo_console.causes.CauseError` subclass: the inner
query is invalid, the app's bulk slots are taken, the operation failed (with what it wrote at
``partialDataUrl``), was cancelled, its result expired, or it is still running when the caller
stops waiting. The signed URL is never put into a cause, a log line or a ``repr``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLInt,
    GraphQLString,
    OperationDefinitionNode,
    VariableNode,
    ast_from_value,
    parse,
    print_ast,
    visit,
)
from graphql.language.visitor import REMOVE, Visitor

from ..causes import Cause, CauseError
from ..redact import RedactingFilter
from . import documents
from .client import _is_loopback
from .models import parse_time

if TYPE_CHECKING:
    from .client import ShopifyClient

log = logging.getLogger(__name__)
log.addFilter(RedactingFilter())

DOWNLOAD_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=10.0, pool=10.0)
_GID = re.compile(r"gid://shopify/BulkOperation/\d+")


class BulkStatus(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    CANCELING = "CANCELING"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


IN_PROGRESS = frozenset({BulkStatus.CREATED, BulkStatus.RUNNING, BulkStatus.CANCELING})


@dataclass(frozen=True)
class BulkOperation:
    """One poll's worth of a bulk operation (``BulkOperationState`` fragment)."""

    id: str
    status: BulkStatus
    query: str = field(repr=False)
    error_code: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = field(default=None, repr=False)  # signed: grants the data, keep it out
    partial_data_url: str | None = field(default=None, repr=False)

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> BulkOperation:
        def count(key: str) -> int:
            value = node.get(key)
            return int(value) if value is not None else 0

        return cls(
            id=str(node["id"]),
            status=BulkStatus(node["status"]),
            query=str(node.get("query") or ""),
            error_code=node.get("errorCode"),
            created_at=parse_time(node["createdAt"]) if node.get("createdAt") else None,
            completed_at=parse_time(node["completedAt"]) if node.get("completedAt") else None,
            object_count=count("objectCount"),
            root_object_count=count("rootObjectCount"),
            file_size=int(node["fileSize"]) if node.get("fileSize") is not None else None,
            url=node.get("url"),
            partial_data_url=node.get("partialDataUrl"),
        )

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS


@dataclass(frozen=True)
class BulkRecord:
    """One JSONL line: the object, its parent's GID for a child line, and where the next
    line starts in the file (save ``offset`` to resume after a kill)."""

    data: dict[str, Any]
    parent_id: str | None
    offset: int
    line: int


# -- failure states -----------------------------------------------------------------------------


class BulkQueryInvalid(CauseError):
    """userErrors ``INVALID``: the inner query breaks a bulk rule (a console bug)."""

    def __init__(self, cause: Cause, messages: tuple[str, ...]) -> None:
        super().__init__(cause)
        self.messages = messages


class BulkOperationBusy(CauseError):
    """``OPERATION_IN_PROGRESS`` / ``LIMIT_REACHED``: this app's bulk slots are taken."""

    def __init__(self, cause: Cause, in_progress: tuple[str, ...]) -> None:
        super().__init__(cause)
        self.in_progress = in_progress


class BulkOperationEnded(CauseError):
    """The operation ended without a usable result (failed, cancelled, expired)."""

    def __init__(self, cause: Cause, operation: BulkOperation) -> None:
        super().__init__(cause)
        self.operation = operation


class BulkOperationFailed(BulkOperationEnded):
    """FAILED with ``errorCode``; ``operation.partial_data_url`` holds what was written."""


class BulkOperationCanceled(BulkOperationEnded):
    pass


class BulkResultExpired(BulkOperationEnded):
    pass


class BulkStillRunning(CauseError):
    """The caller stopped waiting; the operation goes on and can be picked up by its id."""

    def __init__(self, cause: Cause, operation: BulkOperation) -> None:
        super().__init__(cause)
        self.operation = operation


class BulkOperationNotFound(CauseError):
    pass


def _ended(operation: BulkOperation) -> BulkOperationEnded:
    which = f"Shopify bulk operation {operation.id}"
    if operation.status is BulkStatus.FAILED:
        code = "shopify.scope_missing" if operation.error_code == "ACCESS_DENIED" else None
        reason = {
            "ACCESS_DENIED": "the app may not read everything the export asks for (a missing "
            "access scope)",
            "TIMEOUT": "Shopify's export timed out",
            "INTERNAL_SERVER_ERROR": "Shopify had an internal error during the export",
        }.get(operation.error_code or "", f"it failed ({operation.error_code})")
        partial = " Part of the data is available." if operation.partial_data_url else ""
        return BulkOperationFailed(
            Cause(
                code=code or "shopify.bulk_failed",
                record=which,
                missing=f"The export stopped: {reason}.{partial}",
                operation="Shopify bulk operation",
                detail=f"errorCode {operation.error_code}; {operation.root_object_count} "
                "objects read",
            ),
            operation,
        )
    if operation.status is BulkStatus.CANCELED:
        return BulkOperationCanceled(
            Cause(
                code="shopify.bulk_canceled",
                record=which,
                missing="The export was cancelled before it finished.",
                operation="Shopify bulk operation",
            ),
            operation,
        )
    return BulkResultExpired(
        Cause(
            code="shopify.bulk_expired",
            record=which,
            missing="The export's result is no longer available (results are kept seven days).",
            operation="Shopify bulk operation",
            retry_note="the export is run again",
        ),
        operation,
    )


# -- inner queries --------------------------------------------------------------------------------


class _Inline(Visitor):
    """Write variable values into a document; drop arguments whose value is null."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__()
        self.values = values

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        if isinstance(node.value, VariableNode):
            value = self.values.get(node.value.name.value)
            if value is None:
                return REMOVE
            return _with(node, value=ast_from_value(value, _type_of(value)))
        return None

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
        return _with(node, variable_definitions=())


def _with(node: Any, **changes: Any) -> Any:
    """A changed copy of an AST node (frozen dataclasses in graphql-core 3.3, not in 3.2)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return dataclasses.replace(node, **changes)
    import copy

    clone = copy.copy(node)
    for name, value in changes.items():
        setattr(clone, name, value)
    return clone


def _type_of(value: Any) -> Any:
    if isinstance(value, bool):
        return GraphQLBoolean
    if isinstance(value, int):
        return GraphQLInt
    if isinstance(value, float):
        return GraphQLFloat
    return GraphQLString


def inner_query(name: str, variables: Mapping[str, Any] | None = None) -> str:
    """The text of ``queries/<name>.graphql`` with its variables written in, ready for
    ``bulkOperationRunQuery`` (bulk queries take no variables; a ``None`` drops the argument)."""
    document: DocumentNode = parse(documents.load(name).text)
    return print_ast(visit(document, _Inline(dict(variables or {}))))


# -- the operations -------------------------------------------------------------------------------


class BulkOperations:
    """Run and read bulk queries through one :class:`~.client.ShopifyClient`.

    Polls start every ``poll_interval`` seconds (Shopify's own tooling polls at 1.5 s) and
    back off by ``backoff`` up to ``max_poll_interval`` while nothing moves. Downloads use a
    separate HTTP client that never carries the shop's token (the URL is signed instead).
    """

    def __init__(
        self,
        client: ShopifyClient,
        *,
        poll_interval: float = 1.5,
        max_poll_interval: float = 30.0,
        backoff: float = 1.5,
        download_timeout: httpx.Timeout = DOWNLOAD_TIMEOUT,
        download_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.backoff = backoff
        self.download_retries = download_retries
        self._http = httpx.Client(timeout=download_timeout, transport=transport)
        self._on_event = on_event

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BulkOperations:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _emit(self, name: str, **data: Any) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(name, data)
        except Exception:  # a progress bar bug must not stop an export
            log.exception("bulk on_event handler failed for %s", name)

    # -- start, read, cancel ----------------------------------------------------------------

    def start(
        self, query: str, *, group_objects: bool = False, adopt: bool = True
    ) -> BulkOperation:
        """Start a bulk query, or adopt this app's running operation with the same text."""
        if adopt:
            running = self.find(query)
            if running is not None:
                return running
        try:
            reply = self.client.execute(
                "BulkRun", {"query": query, "groupObjects": group_objects}, default_cost=10
            )
        except CauseError as exc:
            if exc.cause.code != "shopify.outcome_unknown":
                raise
            found = self.find(query)  # the lost answer may have started it
            if found is None:
                raise
            return found
        payload = reply.data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        if errors:
            raise self._refused(errors)
        node = payload.get("bulkOperation")
        if not node:
            raise CauseError(
                Cause(
                    code="data.invalid_payload",
                    missing="Shopify accepted the bulk query but returned no operation.",
                    operation="Shopify BulkRun",
                )
            )
        operation = BulkOperation.from_node(node)
        self._emit("bulk_started", id=operation.id)
        return operation

    def _refused(self, errors: list[Mapping[str, Any]]) -> CauseError:
        codes = {e.get("code") for e in errors}
        messages = tuple(str(e.get("message", "")) for e in errors)
        if codes & {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}:
            ids = tuple(_GID.findall(" ".join(messages)))
            return BulkOperationBusy(
                Cause(
                    code="shopify.bulk_busy",
                    missing="This app's bulk operations on the shop are all in use "
                    f"({len(ids) or 'some'} running); the export waits for one to end.",
                    operation="Shopify BulkRun",
                    detail="; ".join(messages),
                    retry_after=30.0,
                ),
                ids,
            )
        return BulkQueryInvalid(
            Cause(
                code="shopify.query_rejected",
                missing="Shopify refused the console's bulk query.",
                operation="Shopify BulkRun",
                detail="; ".join(messages),
            ),
            messages,
        )

    def get(self, operation_id: str) -> BulkOperation | None:
        """One operation by id (1 point); ``None`` if this app has no such operation."""
        reply = self.client.execute("BulkPoll", {"id": operation_id}, default_cost=1)
        node = reply.data.get("bulkOperation")
        return BulkOperation.from_node(node) if node else None

    def operations(self, query: str | None = None, *, first: int = 25) -> list[BulkOperation]:
        """This app's operations, newest first; ``query`` e.g. ``"status:running"``."""
        reply = self.client.execute(
            "BulkList", {"first": first, "query": query}, units=first, default_cost=first + 2
        )
        connection = reply.data.get("bulkOperations") or {}
        return [BulkOperation.from_node(n) for n in connection.get("nodes") or []]

    def in_progress(self) -> list[BulkOperation]:
        found = self.operations("status:created OR status:running OR status:canceling")
        return [op for op in found if op.in_progress]

    def find(self, query: str) -> BulkOperation | None:
        """This app's operation still in progress for exactly this query text, if any."""
        return next(
            (op for op in self.in_progress() if op.query == query and op.status != "CANCELING"),
            None,
        )

    def cancel(self, operation_id: str) -> BulkOperation:
        """Ask Shopify to stop; the operation goes CANCELING, then CANCELED."""
        reply = self.client.execute("BulkCancel", {"id": operation_id}, default_cost=10)
        payload = reply.data.get("bulkOperationCancel") or {}
        node = payload.get("bulkOperation")
        errors = payload.get("userErrors") or []
        if node is None:
            raise BulkOperationNotFound(
                Cause(
                    code="shopify.not_found",
                    record=f"Shopify bulk operation {operation_id}",
                    missing="Shopify has no such bulk operation for this app.",
                    operation="Shopify BulkCancel",
                    detail="; ".join(str(e.get("message")) for e in errors),
                )
            )
        return BulkOperation.from_node(node)

    # -- waiting --------------------------------------------------------------------------------

    def wait(
        self,
        operation_id: str,
        *,
        timeout: float | None = None,
        stop: threading.Event | None = None,
        on_progress: Callable[[BulkOperation], None] | None = None,
    ) -> BulkOperation:
        """Poll until COMPLETED and return it; raise for every other end.

        Paced: one poll now, then every ``poll_interval`` while the object count grows, and
        longer and longer (× ``backoff``, up to ``max_poll_interval``) while it does not.
        ``timeout`` or a set ``stop`` raises :class:`BulkStillRunning` (resume later by id).
        """
        started = time.monotonic()
        interval = self.poll_interval
        last_count = -1
        while True:
            operation = self.get(operation_id)
            if operation is None:
                raise BulkOperationNotFound(
                    Cause(
                        code="shopify.not_found",
                        record=f"Shopify bulk operation {operation_id}",
                        missing="Shopify no longer knows this bulk operation (or another app "
                        "started it).",
                        operation="Shopify BulkPoll",
                        retry_note="start the export again",
                    )
                )
            if on_progress is not None:
                on_progress(operation)
            self._emit(
                "bulk_progress",
                id=operation.id,
                status=str(operation.status),
                objects=operation.root_object_count,
            )
            if operation.status is BulkStatus.COMPLETED:
                return operation
            if not operation.in_progress:
                raise _ended(operation)
            interval = (
                self.poll_interval
                if operation.object_count != last_count
                else min(self.max_poll_interval, interval * self.backoff)
            )
            last_count = operation.object_count
            left = None if timeout is None else timeout - (time.monotonic() - started)
            if left is not None and left <= 0:
                raise self._still_running(operation, "the wait timed out")
            pause = interval if left is None else min(interval, left)
            if stop is not None:
                if stop.wait(pause):
                    raise self._still_running(operation, "the console stopped waiting")
            else:
                time.sleep(pause)

    def _still_running(self, operation: BulkOperation, why: str) -> BulkStillRunning:
        return BulkStillRunning(
            Cause(
                code="shopify.bulk_running",
                record=f"Shopify bulk operation {operation.id}",
                missing=f"The export is still {operation.status.lower()} "
                f"({operation.root_object_count} records so far); {why}.",
                operation="Shopify BulkPoll",
                retry_note="the same operation is picked up again by its id",
            ),
            operation,
        )

    # -- the result --------------------------------------------------------------------------------

    def records(self, operation: BulkOperation, *, offset: int = 0) -> Iterator[BulkRecord]:
        """Stream the records of a COMPLETED operation (or a failed one's partial data),
        starting at byte ``offset`` (a record's ``offset`` from an earlier read)."""
        url = operation.url or operation.partial_data_url
        if url is None and operation.in_progress:
            raise self._still_running(operation, "it has no result yet")
        if url is None:
            raise _ended(operation)
        yield from self._stream(operation, url, offset)

    def resume(
        self,
        operation_id: str,
        *,
        offset: int = 0,
        timeout: float | None = None,
        stop: threading.Event | None = None,
        on_progress: Callable[[BulkOperation], None] | None = None,
    ) -> Iterator[BulkRecord]:
        """Pick up a known operation after a restart: wait for it, then stream from
        ``offset``. Raises the same errors as :meth:`wait` (an expired result included)."""
        operation = self.wait(operation_id, timeout=timeout, stop=stop, on_progress=on_progress)
        yield from self.records(operation, offset=offset)

    def run(
        self,
        query: str,
        *,
        group_objects: bool = False,
        timeout: float | None = None,
        stop: threading.Event | None = None,
        on_progress: Callable[[BulkOperation], None] | None = None,
    ) -> Iterator[BulkRecord]:
        """Start (or adopt), wait, stream: the whole path in one call."""
        operation = self.start(query, group_objects=group_objects)
        yield from self.resume(operation.id, timeout=timeout, stop=stop, on_progress=on_progress)

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
            return
        raise CauseError(
            Cause(
                code="data.invalid_payload",
                missing="Shopify's bulk result URL is not https; the console will not fetch it.",
                operation="Shopify bulk download",
                detail=f"{parts.scheme}://{host}",
            )
        )

    def _stream(self, operation: BulkOperation, url: str, offset: int) -> Iterator[BulkRecord]:
        self._check_url(url)
        attempt = 0
        line_no = 0
        while True:
            try:
                for record in self._read(operation, url, offset, line_no):
                    offset, line_no = record.offset, record.line
                    attempt = 0
                    yield record
                return
            except httpx.TransportError as exc:
                attempt += 1
                if attempt > self.download_retries:
                    raise CauseError(
                        Cause(
                            code="shopify.unavailable",
                            record=f"Shopify bulk operation {operation.id}",
                            missing="The bulk result download kept breaking off.",
                            operation="Shopify bulk download",
                            detail=f"{type(exc).__name__} after byte {offset}",
                            retry_note="the download resumes where it stopped",
                        )
                    ) from None
                self._emit("bulk_download_retry", id=operation.id, offset=offset, attempt=attempt)
                time.sleep(min(5.0, 0.2 * 2**attempt))

    def _read(
        self, operation: BulkOperation, url: str, offset: int, line_no: int
    ) -> Iterator[BulkRecord]:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with self._http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                return  # nothing after the offset: the file was read to its end
            if response.status_code in (400, 403, 404, 410):
                raise _ended(_as_expired(operation))
            if response.status_code >= 500:
                raise httpx.RemoteProtocolError(f"HTTP {response.status_code}")
            if response.status_code not in (200, 206):
                raise CauseError(
                    Cause(
                        code="shopify.unavailable",
                        record=f"Shopify bulk operation {operation.id}",
                        missing=f"The bulk result download answered HTTP {response.status_code}.",
                        operation="Shopify bulk download",
                    )
                )
            skip = offset if (offset and response.status_code == 200) else 0
            position = 0 if response.status_code == 200 else offset
            pending = b""
            for chunk in response.iter_bytes():
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip, position = chunk[cut:], skip - cut, position + cut
                *whole, pending = (pending + chunk).split(b"\n")
                for raw in whole:
                    position += len(raw) + 1
                    line_no += 1
                    if raw.strip():
                        yield parse_record(operation, raw, position, line_no)
            if pending.strip():
                position += len(pending)
                yield parse_record(operation, pending, position, line_no + 1)


def _as_expired(operation: BulkOperation) -> BulkOperation:
    return dataclasses.replace(
        operation, status=BulkStatus.EXPIRED, url=None, partial_data_url=None
    )


def parse_record(operation: BulkOperation, raw: bytes, offset: int, line: int) -> BulkRecord:
    try:
        data = json.loads(raw)
    except ValueError:
        raise CauseError(
            Cause(
                code="data.invalid_payload",
                record=f"Shopify bulk operation {operation.id}",
                missing=f"Line {line} of the bulk result is not JSON.",
                operation="Shopify bulk download",
            )
        ) from None
    if not isinstance(data, dict):
        raise CauseError(
            Cause(
                code="data.invalid_payload",
                record=f"Shopify bulk operation {operation.id}",
                missing=f"Line {line} of the bulk result is not a JSON object.",
                operation="Shopify bulk download",
            )
        )
    parent = data.pop("__parentId", None)
    return BulkRecord(data=data, parent_id=parent, offset=offset, line=line)


def group_children(records: Iterator[BulkRecord]) -> Iterator[tuple[BulkRecord, list[BulkRecord]]]:
    """Each root with its children, for a result written with ``groupObjects: true`` (children
    right after their parent). A child whose parent is not the current root is an error, so
    an ungrouped file is never silently mis-assembled."""
    root: BulkRecord | None = None
    children: list[BulkRecord] = []
    for record in records:
        if record.parent_id is None:
            if root is not None:
                yield root, children
            root, children = record, []
        elif root is not None and record.parent_id == root.data.get("id"):
            children.append(record)
        else:
            raise CauseError(
                Cause(
                    code="data.invalid_payload",
                    missing=f"Line {record.line} of the bulk result belongs to "
                    f"{record.parent_id}, not to the record before it: the file is not grouped.",
                    operation="Shopify bulk download",
                    retry_note="run the bulk query with groupObjects: true",
                )
            )
    if root is not None:
        yield root, children


__all__ = [
    "BulkOperation",
    "BulkOperationBusy",
    "BulkOperationCanceled",
    "BulkOperationEnded",
    "BulkOperationFailed",
    "BulkOperationNotFound",
    "BulkOperations",
    "BulkQueryInvalid",
    "BulkRecord",
    "BulkResultExpired",
    "BulkStatus",
    "BulkStillRunning",
    "group_children",
    "inner_query",
    "parse_record",
]
