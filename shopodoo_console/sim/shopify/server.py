"""The simulator's HTTP side: a real server on 127.0.0.1 speaking Shopify's Admin API.

Routes:

``POST /admin/api/{version}/graphql.json``   GraphQL (``X-Shopify-Access-Token``)
``POST /admin/oauth/access_token``           client-credentials grant (form or JSON body)
``GET  /_sim/info``                          base URL, domain, static token, client id/secret
``GET  /_sim/counters``                      requests, THROTTLED count, points spent…
``POST /_sim/control/<method>``              the :class:`~.control.Control` API, JSON kwargs
``POST /_sim/faults`` / ``DELETE /_sim/faults``  add a fault rule (JSON) / clear them all
``POST /_sim/bulk/<method>``                 bulk operation hooks (:mod:`.bulk`), JSON kwargs
``GET  /shopify-tiers-…/bulk-operation-outputs/<token>?Expires=…&Signature=…``  a bulk result

Tokens: one static token (legacy custom app, never expires) and one client-credentials app
whose tokens live ``token_ttl`` seconds (86399 by default, shopify.md §1.1). Each app has its
own leaky bucket, sized by plan (shopify.md §3).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import engine
from .bulk import OUTPUT_PATH, BulkOperations, Download
from .control import Control
from .cost import PLANS, Bucket
from .faults import STATUS_BODIES, FaultRule, Faults
from .scenario import load
from .state import DEFAULT_SCOPES, StateError, Store

GRAPHQL_PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json$")
UNAUTHORIZED = STATUS_BODIES[401]
log = logging.getLogger(__name__)


@dataclass
class App:
    """An installed app: its scopes and its own bucket (limits are per app and shop)."""

    name: str
    scopes: frozenset[str]
    bucket: Bucket
    client_id: str | None = None
    client_secret: str | None = None


class Counters:
    """What the simulator saw, for tests and the benchmark (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.values: Counter[str] = Counter()
            self.operations: Counter[str] = Counter()

    def add(self, **amounts: int) -> None:
        with self._lock:
            self.values.update({k: v for k, v in amounts.items() if v})

    def operation(self, name: str | None) -> None:
        with self._lock:
            self.operations[name or "(anonymous)"] += 1

    def __getitem__(self, key: str) -> int:
        with self._lock:
            return self.values[key]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**dict(self.values), "operations": dict(self.operations)}


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    download: Download | None = None


class ShopifySimulator:
    """A Shopify store on 127.0.0.1 for tests, the demo and benchmarks.

    >>> with ShopifySimulator(scenario=generate(orders=20)) as sim:   # doctest: +SKIP
    ...     client = ShopifyClient(sim.domain, auth=StaticToken(sim.static_token),
    ...                            base_url=sim.base_url)
    """

    def __init__(
        self,
        scenario: Mapping[str, Any] | None = None,
        *,
        plan: str = "standard",
        bucket: tuple[int, float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: float = 86399.0,
        static_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] | None = None,
    ) -> None:
        scenario = scenario or {}
        self.store = Store(scenario.get("shop"))
        self.store.shop["plan"] = plan
        load(self.store, scenario)
        auth = scenario.get("auth") or {}
        maximum, rate = bucket or PLANS[plan]
        granted = frozenset(scopes or auth.get("scopes") or DEFAULT_SCOPES)
        self.static_token = (
            static_token
            or (auth.get("static_tokens") or [None])[0]
            or ("shpat_" + secrets.token_hex(16))
        )
        self.client_id = client_id or secrets.token_hex(16)
        self.client_secret = client_secret or ("shpss_" + secrets.token_hex(16))
        self.apps: dict[str, App] = {
            "static": App("static", granted, Bucket(maximum, rate)),
            "client": App(
                "client",
                granted,
                Bucket(maximum, rate),
                client_id=self.client_id,
                client_secret=self.client_secret,
            ),
        }
        self.tokens: dict[str, tuple[str, float | None]] = {self.static_token: ("static", None)}
        self._tokens_lock = threading.Lock()
        self.token_ttl = token_ttl
        self.frozen: int | None = None
        self.faults = Faults()
        self.counters = Counters()
        self.control = Control(self)
        self.bulk = BulkOperations(self.store)
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> ShopifySimulator:
        if self._server is not None:
            return self
        sim = self

        class Handler(_Handler):
            simulator = sim

        server = ThreadingHTTPServer((self._host, self._port), Handler)
        server.daemon_threads = True
        server.handle_error = lambda *_: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.bulk.base_url = self.base_url
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.bulk.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ShopifySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def domain(self) -> str:
        return self.store.shop["domain"]

    def graphql_url(self, version: str = "2026-07") -> str:
        return f"{self.base_url}/admin/api/{version}/graphql.json"

    def info(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "domain": self.domain,
            "graphql_url": self.graphql_url(),
            "static_token": self.static_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "plan": self.store.shop["plan"],
        }

    # -- auth -------------------------------------------------------------------------------

    def buckets(self) -> list[Bucket]:
        return [app.bucket for app in self.apps.values()]

    def set_scopes(self, scopes: Sequence[str]) -> list[str]:
        for app in self.apps.values():
            app.scopes = frozenset(scopes)
        return sorted(scopes)

    def expire_tokens(self) -> int:
        with self._tokens_lock:
            issued = [t for t, (_, exp) in self.tokens.items() if exp is not None]
            for token in issued:
                self.tokens[token] = (self.tokens[token][0], 0.0)
            return len(issued)

    def app_for(self, token: str | None) -> App | None:
        with self._tokens_lock:
            entry = self.tokens.get(token or "")
        if entry is None:
            return None
        name, expires = entry
        if expires is not None and time.time() >= expires:
            return None
        return self.apps[name]

    def issue_token(self, form: Mapping[str, Any]) -> _Reply:
        app = self.apps["client"]
        if form.get("grant_type") != "client_credentials":
            return _Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != app.client_id or form.get("client_secret") != app.client_secret:
            return _Reply(401, UNAUTHORIZED)
        token = "shpat_" + secrets.token_hex(16)
        with self._tokens_lock:
            self.tokens[token] = ("client", time.time() + self.token_ttl)
        self.counters.add(tokens_issued=1)
        return _Reply(
            200,
            {
                "access_token": token,
                "scope": ",".join(sorted(app.scopes)),
                "expires_in": int(self.token_ttl),
            },
        )

    # -- requests ---------------------------------------------------------------------------

    def handle_graphql(self, token: str | None, raw: bytes, version: str) -> _Reply:
        self.counters.add(requests=1)
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            return _Reply(400, {"errors": "Bad Request: body is not JSON"})
        inspected = engine.inspect(payload)
        request = inspected if isinstance(inspected, engine.Request) else None
        keys = engine.idempotency_keys(request) if request else []
        if request is not None:
            self.store.claim_keys(keys, request.token)  # in flight from now (§8.4)
        try:
            return self._graphql(token, inspected, request, keys, version)
        finally:
            if request is not None:
                self.store.release_keys(keys, request.token)

    def _graphql(
        self,
        token: str | None,
        inspected: engine.Request | engine.Result,
        request: engine.Request | None,
        keys: list[str],
        version: str,
    ) -> _Reply:
        op = request.operation_name or _op_name(request) if request else None
        roots = request.root_fields if request else []
        mutation = bool(request and request.is_mutation)
        headers = {"X-Shopify-API-Version": version}
        early = self._faults_before(token, request, keys, op, roots, mutation, headers)
        if early is not None:
            return early
        app = self.app_for(token)
        if app is None:
            return _Reply(401, UNAUTHORIZED, headers)
        if self.frozen is not None:
            return _Reply(self.frozen, STATUS_BODIES[self.frozen], headers)
        self.counters.operation(op)
        if request is None:
            assert isinstance(inspected, engine.Result)
            return _Reply(200, inspected.body, headers)
        result = engine.run(
            request,
            self.store,
            app.scopes,
            app.bucket,
            app=app.name,
            api_version=version,
            bulk_operations=self.bulk,
        )
        if result.throttled:
            self.counters.add(throttled=1)
        else:
            self.counters.add(
                executed=1 if result.actual is not None else 0,
                points_requested=result.requested or 0,
                points_spent=result.actual or 0,
            )
        reply = _Reply(200, result.body, headers)
        if self.faults.take("graphql", "after", op, roots, mutation):
            self.counters.add(faults_fired=1, dropped=1)
            reply.drop = True
        return reply

    def _faults_before(
        self,
        token: str | None,
        request: engine.Request | None,
        keys: list[str],
        op: str | None,
        roots: list[str],
        mutation: bool,
        headers: dict[str, str],
    ) -> _Reply | None:
        """Fire the rules due before execution; a reply ends the request there."""
        for rule in self.faults.take("graphql", "before", op, roots, mutation):
            self.counters.add(faults_fired=1)
            if rule.action == "throttle":
                self.counters.add(throttled=1)
                bucket = (self.app_for(token) or self.apps["static"]).bucket
                requested = (engine.requested_cost(request) if request else None) or 1
                return _Reply(200, engine.throttled(requested, bucket).body, headers)
            if rule.action == "sale":
                self._sale(rule, request)
                continue
            if rule.action == "fail_keyed":
                with self.store.lock:
                    self.store.failed_keys.update(keys)
                return _Reply(200, _internal_error(), headers)
            reply = self._fault_reply(rule, headers)
            if reply is not None:
                return reply
        return None

    def _sale(self, rule: FaultRule, request: engine.Request | None) -> None:
        """A customer buys while the console's write is on its way (fault ``sale``)."""
        item, location = rule.item, rule.location
        if item is None or location is None:
            quantities = ((request.variables.get("input") or {}) if request else {}).get(
                "quantities"
            ) or [{}]
            item = item or quantities[0].get("inventoryItemId")
            location = location or quantities[0].get("locationId")
        if item and location:
            self.control.sell(item, location, rule.quantity)

    def _fault_reply(self, rule: FaultRule, headers: dict[str, str]) -> _Reply | None:
        if rule.action == "latency":
            time.sleep(rule.delay)
            return None
        if rule.action == "reset":
            return _Reply(0, None, drop=True)
        if rule.action == "throttle":  # on the token endpoint: a plain 429
            return _Reply(429, STATUS_BODIES[429], {**headers, "Retry-After": "1"})
        extra = dict(headers)
        if rule.retry_after is not None:
            extra["Retry-After"] = f"{rule.retry_after:g}"
        if rule.status == 429:
            self.counters.add(http_429=1)
        body = rule.body if rule.body is not None else STATUS_BODIES.get(rule.status, {})
        return _Reply(rule.status, body, extra)

    def handle_control(self, method: str, path: str, raw: bytes) -> _Reply:
        try:
            arguments = json.loads(raw) if raw else {}
            if path == "/_sim/info" and method == "GET":
                return _Reply(200, self.info())
            if path == "/_sim/counters" and method == "GET":
                return _Reply(200, self.counters.snapshot())
            if path == "/_sim/faults" and method == "POST":
                return _Reply(200, self.faults.add(arguments).to_dict())
            if path == "/_sim/faults" and method == "DELETE":
                self.faults.clear()
                return _Reply(200, {"result": None})
            if path.startswith("/_sim/bulk/") and method == "POST":
                name = path.removeprefix("/_sim/bulk/")
                return _Reply(200, {"result": self.bulk.call(name, arguments)})
            if path.startswith("/_sim/control/") and method == "POST":
                name = path.removeprefix("/_sim/control/")
                return _Reply(200, {"result": self.control.call(name, arguments)})
        except (StateError, ValueError, TypeError, KeyError) as exc:
            return _Reply(400, {"error": str(exc)})
        return _Reply(404, STATUS_BODIES[404])


def _internal_error() -> dict[str, Any]:
    """Shopify's INTERNAL_SERVER_ERROR answer (HTTP 200, carries a request id: shopify.md §5.1)."""
    request_id = secrets.token_hex(16)
    return {
        "errors": [
            {
                "message": "Internal error. Looks like something went wrong on our end.\n"
                f"Request ID: {request_id} (include this in support requests).",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }


def _op_name(request: engine.Request) -> str | None:
    if request.operation is not None and request.operation.name is not None:
        return request.operation.name.value
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ShopifySimulator/1"
    timeout = 120  # idle keep-alive connections close after this (clients expire sooner)
    simulator: ShopifySimulator

    def log_message(self, format: str, *args: Any) -> None:
        return

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ValueError):
            self.close_connection = True

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        try:
            reply = self._dispatch(method)
        except Exception:  # a simulator bug answers 500, like a server would, and is logged
            log.exception("simulator failed on %s %s", method, self.path)
            reply = _Reply(500, STATUS_BODIES[500])
        if reply.drop:
            self._drop()
            return
        self._send(reply)

    def _dispatch(self, method: str) -> _Reply:
        raw = self._body()
        path = urllib.parse.urlsplit(self.path).path
        sim = self.simulator
        match = GRAPHQL_PATH.match(path)
        if match and method == "POST":
            reply = sim.handle_graphql(
                self.headers.get("X-Shopify-Access-Token"), raw, match["version"]
            )
        elif path == "/admin/oauth/access_token" and method == "POST":
            reply = self._token(raw)
        elif path.startswith(OUTPUT_PATH) and method == "GET":
            query = urllib.parse.urlsplit(self.path).query
            download = sim.bulk.download(path, query, self.headers.get("Range"))
            reply = _Reply(download.status, None, download=download)
        elif path.startswith("/_sim/"):
            reply = sim.handle_control(method, path, raw)
        else:
            reply = _Reply(404, STATUS_BODIES[404])
        return reply

    def _token(self, raw: bytes) -> _Reply:
        sim = self.simulator
        for rule in sim.faults.take("token", "before"):
            reply = sim._fault_reply(rule, {})
            if reply is not None:
                return reply
        kind = self.headers.get("Content-Type", "")
        try:
            if "json" in kind:
                form = json.loads(raw or b"{}")
            else:
                form = dict(urllib.parse.parse_qsl(raw.decode()))
        except ValueError:
            return _Reply(400, {"error": "invalid_request"})
        return sim.issue_token(form)

    def _send(self, reply: _Reply) -> None:
        if reply.download is not None:
            self._send_download(reply.download)
            return
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", secrets.token_hex(8))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_download(self, download: Download) -> None:
        """A bulk result file (or a byte range of it) in chunks, or its XML error."""
        self.send_response(download.status)
        length = download.length if download.path is not None else len(download.body)
        for name, value in download.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if download.path is None:
            self.wfile.write(download.body)
            return
        with download.path.open("rb") as source:
            source.seek(download.start)
            left = download.length
            while left > 0:
                chunk = source.read(min(65536, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        self.wfile.flush()

    def _drop(self) -> None:
        """Close with a TCP reset and no answer (the request may already be applied)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
