"""The simulated Odoo server: real HTTP on 127.0.0.1, the wire shapes of odoo.md §2-§3.

Routes: ``GET /web/version`` and ``/json/version`` (19 only; 404 before, as the fact sheet
documents them for 19), ``POST /web/webclient/version_info``, ``POST /jsonrpc`` (services
``common``, ``object``, ``db``) and ``POST /json/2/<model>/<method>``; plus ``/_sim/…``, the
control endpoint a separate process (the demo, a crash test) uses to drive the simulator.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import dispatch
from .business import attach
from .control import Control
from .errors import (
    AccessDenied,
    BadRequest,
    LockError,
    NotFound,
    PyError,
    SerializationFailure,
    SimError,
    Unauthorized,
    sql_error,
)
from .faults import FaultRule, Faults
from .models import build_registry
from .orm import SUPERUSER, Env, Model
from .scenario import Seeder, default_scenario
from .security import OPERATIONS, Security
from .store import Store

VERSIONS = (16, 17, 18, 19)
PROXY_PAGES = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class _Dropped(Exception):
    """Close the connection without an answer (the "commit then drop" fault)."""


class OdooSimulator:
    """An in-memory Odoo 16/17/18/19 behind a real HTTP server.

    ``OdooSimulator(version=19).start()`` picks a free port; ``url``, ``database``, ``login``
    and ``api_key`` are what a client needs. ``env[model]`` reads and changes records directly
    (as the superuser, one transaction per call); ``faults`` injects failures; ``calls``
    counts requests per ``(model, method)``.
    """

    def __init__(
        self,
        version: int = 19,
        scenario: dict[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rpc_disabled: bool = False,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"Odoo version must be one of {VERSIONS}, not {version!r}")
        self.version = version
        self.host, self.port = host, port
        self.rpc_disabled = rpc_disabled
        self.scenario = scenario if scenario is not None else default_scenario()
        self.database: str = self.scenario.get("database", "shopodoo")
        self.store = Store()
        self.registry = build_registry(version)
        attach(self.registry, version)
        self.store.m2o_fields = {
            name: (*m.m2o_fields, *m.indexed) for name, m in self.registry.items()
        }
        self.security = Security(version)
        self.faults = Faults()
        self.control = Control(self)
        self.calls: Counter[tuple[str, str]] = Counter()
        self._calls_lock = threading.Lock()
        with self.store.transaction():
            self.users = Seeder(self._env(SUPERUSER, {})).run(self.scenario)
        for u in self.users:
            self.security.add_login(u["uid"], u["login"], u["password"], u["api_key"])
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what a client needs ------------------------------------------------------------------

    @property
    def integration_user(self) -> dict[str, Any]:
        return self.users[0]

    @property
    def login(self) -> str:
        return str(self.integration_user["login"])

    @property
    def api_key(self) -> str:
        return str(self.integration_user["api_key"])

    @property
    def uid(self) -> int:
        return int(self.integration_user["uid"])

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def __repr__(self) -> str:  # never the API key
        state = self.url if self._server else "stopped"
        return f"<OdooSimulator {self.version}.0 {state} db={self.database!r}>"

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> OdooSimulator:
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() returns within 10 ms
            name=f"odoo-sim-{self.version}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OdooSimulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- in-process helpers for tests and the demo -------------------------------------------------

    def _env(self, uid: int, context: dict[str, Any], *, su: bool = False) -> Env:
        return Env(
            self.registry, self.store, self.security, uid, context, su=su, version=self.version
        )

    @property
    def env(self) -> _DirectEnv:
        """``sim.env['sale.order'].search_read([...])``: superuser, one transaction per call."""
        return _DirectEnv(self)

    def call_count(self, model: str | None = None, method: str | None = None) -> int:
        with self._calls_lock:
            return sum(
                n
                for (m, meth), n in self.calls.items()
                if model in (None, m) and method in (None, meth)
            )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    def count(self, model: str, method: str) -> None:
        with self._calls_lock:
            self.calls[(model, method)] += 1

    def user_id(self, login: str) -> int:
        for u in self.users:
            if u["login"] == login:
                return int(u["uid"])
        raise KeyError(f"no simulated user {login!r}")

    def company_id(self, key: str) -> int:
        """A scenario company key ("eu", "us") to its id."""
        names = {c["key"]: c["name"] for c in self.scenario["companies"]}
        for row in self.store.tables["res.company"].values():
            if row["name"] == names.get(key):
                return int(row["id"])
        raise KeyError(f"no simulated company {key!r}")

    def set_user(
        self,
        login: str,
        *,
        groups: list[str] | None = None,
        company_ids: list[int] | None = None,
        company_id: int | None = None,
    ) -> None:
        """Change a user's groups (xmlids) and allowed/default companies."""
        uid = self.user_id(login)
        vals: dict[str, Any] = {}
        if groups is not None:
            by_xmlid = {r["xmlid"]: r["id"] for r in self.store.tables["res.groups"].values()}
            vals["groups_id"] = [(6, 0, [by_xmlid[g] for g in groups])]
        if company_ids is not None:
            vals["company_ids"] = [(6, 0, company_ids)]
        if company_id is not None:
            vals["company_id"] = company_id
        with self.store.transaction():
            self._env(SUPERUSER, {})["res.users"].write([uid], vals)

    def revoke(self, login: str, model: str, *operations: str) -> None:
        """Refuse ``operations`` on ``model`` to ``login`` whatever its groups say."""
        bad = set(operations) - set(OPERATIONS)
        if bad:
            raise ValueError(f"unknown operations {sorted(bad)}")
        key = (self.user_id(login), model)
        self.security.revoked.setdefault(key, set()).update(operations)

    def grant(self, login: str, model: str, *operations: str) -> None:
        key = (self.user_id(login), model)
        self.security.revoked.get(key, set()).difference_update(operations or OPERATIONS)

    def expire_api_key(self, login: str | None = None) -> None:
        """The user's API keys stop working (401 "Invalid apikey" / AccessDenied)."""
        cred = self.security.credentials[login or self.login]
        cred.expired_keys |= cred.api_keys

    def delete_record(self, model: str, record_id: int) -> None:
        """Someone deletes a record in Odoo behind the console's back."""
        with self.store.transaction():
            self._env(SUPERUSER, {})[model]._unlink_one(record_id)


class _DirectModel:
    def __init__(self, sim: OdooSimulator, model: str, context: dict[str, Any]) -> None:
        self._sim, self._model, self._context = sim, model, context

    def __getattr__(self, name: str) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._sim.store.transaction():
                env = self._sim._env(SUPERUSER, self._context, su=True)
                model = env[self._model]
                if name in model.d.methods:
                    return model.d.methods[name][0](model, *args, **kwargs)
                if not hasattr(model, name) and name in dispatch.ORM:
                    return dispatch.ORM[name][0](model, *args, **kwargs)
                return getattr(model, name)(*args, **kwargs)

        return run

    def with_context(self, **ctx: Any) -> _DirectModel:
        return _DirectModel(self._sim, self._model, {**self._context, **ctx})


class _DirectEnv:
    def __init__(self, sim: OdooSimulator, context: dict[str, Any] | None = None) -> None:
        self._sim, self._context = sim, context or {}

    def __getitem__(self, model: str) -> _DirectModel:
        if model not in self._sim.registry:
            raise KeyError(model)
        return _DirectModel(self._sim, model, self._context)

    def with_context(self, **ctx: Any) -> _DirectEnv:
        return _DirectEnv(self._sim, {**self._context, **ctx})


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class _Handler(BaseHTTPRequestHandler):
    sim: OdooSimulator
    protocol_version = "HTTP/1.1"
    server_version = "Werkzeug/3.0.1"
    sys_version = "Python/3.11"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no request bodies
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without NODELAY, Nagle + delayed ACK
        # would add ~40 ms to every call and swamp the latency being simulated.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- plumbing -----------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, *, content_type: str = "application/json") -> None:
        raw = (
            payload.encode()
            if isinstance(payload, str)
            else json.dumps(_jsonable(payload)).encode()
        )
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _html_404(self) -> None:
        self._send(
            404,
            "<!doctype html><title>404 Not Found</title><h1>Not Found</h1><p>The "
            "requested URL was not found on the server.</p>",
            content_type="text/html",
        )

    def _proxy(self, status: int) -> None:
        text = PROXY_PAGES.get(status, "Error")
        self._send(
            status,
            f"<html><head><title>{status} {text}</title></head><body><center>"
            f"<h1>{status} {text}</h1></center><hr><center>nginx</center></body></html>",
            content_type="text/html",
        )

    def _faults(self, model: str, method: str, ids: Any) -> list[FaultRule]:
        """Apply pre-call faults; return the after-call ones. Raises for refusing faults."""
        rules = self.sim.faults.take(model, method)
        after = []
        for rule in rules:
            if rule.kind == "latency":
                time.sleep(rule.delay)
            elif rule.kind == "delete":
                targets = [rule.record_id] if rule.record_id else list(ids or [])
                for rid in targets:
                    self.sim.delete_record(rule.model or model, int(rid))
            elif rule.kind == "status" and not rule.after:
                raise _ProxyStatus(rule.status)
            elif rule.kind == "serialization":
                raise SerializationFailure()
            elif rule.kind == "lock":
                raise LockError()
            else:
                after.append(rule)
        return after

    def _after(self, rules: list[FaultRule], method: str = "", result: Any = None) -> Any:
        for rule in rules:
            if rule.kind == "drop":
                raise _Dropped()
            if rule.kind == "status":
                raise _ProxyStatus(rule.status)
            if rule.kind == "race":
                return _lost_race(method, result)
        return result

    def _execute(
        self,
        uid: int,
        model: str,
        method: str,
        ids: Any,
        args: list[Any],
        kwargs: dict[str, Any],
        context: dict[str, Any],
        json2: bool,
    ) -> Any:
        sim = self.sim
        with sim.store.transaction():
            env = sim._env(uid, context if isinstance(context, dict) else {})
            if model not in sim.registry:
                raise dispatch.model_missing(model, json2=json2)
            result = dispatch.call(
                Model(env, sim.registry[model]), method, ids, args, kwargs, json2=json2
            )
        return result

    # -- routes ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path in ("/web/version", "/json/version") and self.sim.version >= 19:
            self.sim.count("web", "version")
            self._send(
                200, {"version_info": self._version_info(), "version": f"{self.sim.version}.0"}
            )
        elif path == "/_sim/info":
            self._send(200, self._info())
        elif path == "/_sim/calls":
            with self.sim._calls_lock:
                self._send(200, {f"{m}/{meth}": n for (m, meth), n in self.sim.calls.items()})
        elif path == "/_sim/faults":
            self._send(200, [r.to_dict() for r in self.sim.faults.rules])
        elif path.startswith("/json/2/"):
            self._json2_error(NotFound("Did you mean POST /json/2/<model>/<method>?"))
        else:
            self._html_404()

    def do_DELETE(self) -> None:
        path = self.path.split("?")[0]
        if path == "/_sim/faults":
            self.sim.faults.clear()
            self._send(200, True)
        elif path == "/_sim/calls":
            self.sim.reset_calls()
            self._send(200, True)
        else:
            self._html_404()

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        body = self._body()
        try:
            if path == "/jsonrpc":
                self._jsonrpc(body)
            elif path == "/web/webclient/version_info":
                self._send(200, {"jsonrpc": "2.0", "id": None, "result": self._common_version()})
            elif path.startswith("/json/2/"):
                self._json2(path, body)
            elif path.startswith("/_sim/"):
                self._control(path, body)
            else:
                self._html_404()
        except _Dropped:
            self.close_connection = True
        except _ProxyStatus as p:
            self._proxy(p.status)

    # -- version --------------------------------------------------------------------------------

    def _version_info(self) -> list[Any]:
        return [self.sim.version, 0, 0, "final", 0, ""]

    def _common_version(self) -> dict[str, Any]:
        v = self.sim.version
        return {
            "server_version": f"{v}.0",
            "server_version_info": self._version_info(),
            "server_serie": f"{v}.0",
            "protocol_version": 1,
        }

    # -- JSON-RPC (odoo.md §2.2, §3.2) -------------------------------------------------------------

    def _jsonrpc(self, body: bytes) -> None:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            self._send(400, "Invalid JSON data", content_type="text/plain")
            return
        if not isinstance(request, dict) or not isinstance(request.get("params"), dict):
            self._send(400, "Invalid JSON-RPC data", content_type="text/plain")
            return
        rid = request.get("id")
        params = request["params"]
        service, method = params.get("service"), params.get("method")
        args = params.get("args") or []
        try:
            if not isinstance(args, list):
                raise PyError("TypeError", "args must be a list")
            if service == "common":
                result = self._rpc_common(method, args)
            elif service == "object":
                result = self._rpc_object(method, args)
            elif service == "db" and method == "list":
                result = [self.sim.database]
            else:
                raise PyError("NameError", f"Method not available {method}")
        except _RpcDisabled:
            self._html_404()
            return
        except SimError as e:
            self._send(200, {"jsonrpc": "2.0", "id": rid, "error": self._rpc_error(e)})
            return
        self._send(200, {"jsonrpc": "2.0", "id": rid, "result": result})

    def _rpc_error(self, e: SimError) -> dict[str, Any]:
        code = 0 if self.sim.version >= 19 else 200
        message = "Odoo Server Error"
        if isinstance(e, NotFound):
            code, message = 404, "404: Not Found"
        return {"code": code, "message": message, "data": self._serialize(e)}

    def _serialize(self, e: SimError) -> dict[str, Any]:
        debug = (
            f"Traceback (most recent call last):\n  (simulated Odoo {self.sim.version}.0)\n"
            f"{e.name}: {e.message}\n"
            if e.traceback
            else ""
        )
        return {
            "name": e.name,
            "message": e.message,
            "arguments": e.arguments,
            "context": {},
            "debug": debug,
        }

    def _rpc_common(self, method: str, args: list[Any]) -> Any:
        self.sim.count("common", str(method))
        self._after(self._faults("common", str(method), None))
        if method == "version":
            return self._common_version()
        if method in ("login", "authenticate"):
            if self.sim.rpc_disabled:
                raise _RpcDisabled()
            if len(args) < 3:
                raise PyError("TypeError", f"{method}() missing required positional arguments")
            db, login, secret = args[0], args[1], args[2]
            if db != self.sim.database:
                raise PyError("KeyError", f"database {db!r} does not exist")
            uid = self.sim.security.authenticate(str(login), str(secret))
            return uid if uid else False
        raise PyError("NameError", f"Method not available {method}")

    def _rpc_object(self, method: str, args: list[Any]) -> Any:
        if self.sim.rpc_disabled:
            raise _RpcDisabled()
        if method not in ("execute_kw", "execute"):
            raise PyError("NameError", f"Method not available {method}")
        if len(args) < 5:
            raise PyError("TypeError", f"{method}() missing required positional arguments")
        db, uid, secret, model, meth = args[:5]
        if method == "execute_kw":
            call_args = args[5] if len(args) > 5 else []
            kwargs = dict(args[6]) if len(args) > 6 and isinstance(args[6], dict) else {}
        else:
            call_args, kwargs = list(args[5:]), {}
        self.sim.count(str(model), str(meth))
        if db != self.sim.database:
            raise PyError("KeyError", f"database {db!r} does not exist")
        if not self.sim.security.check_uid(uid, str(secret)):
            raise AccessDenied()
        context = kwargs.pop("context", None) or {}
        ids = call_args[0] if call_args and isinstance(call_args[0], list | int) else None
        after = self._faults(str(model), str(meth), ids if isinstance(ids, list) else None)
        result = self._execute(
            uid, str(model), str(meth), None, list(call_args), kwargs, context, json2=False
        )
        if meth == "create" and call_args and isinstance(call_args[0], dict):
            result = result[0]  # create(dict) -> int over RPC (odoo.md §4)
        result = self._after(after, str(meth), result)
        if result is None:
            raise PyError(
                "TypeError", f"The method {meth} of the object {model} can not return `None` !"
            )
        return result

    # -- JSON-2 (odoo.md §2.3) --------------------------------------------------------------------

    def _json2_error(self, e: SimError) -> None:
        self._send(e.http_status, self._serialize(e))

    def _json2(self, path: str, body: bytes) -> None:
        parts = path.split("/")
        if self.sim.version < 19:
            self._html_404()
            return
        if len(parts) != 5 or not parts[3] or not parts[4]:
            self._json2_error(NotFound("Did you mean POST /json/2/<model>/<method>?"))
            return
        model, method = parts[3], parts[4]
        self.sim.count(model, method)
        try:
            auth = self.headers.get("Authorization") or ""
            scheme, _, key = auth.partition(" ")
            uid = self.sim.security.uid_for_key(key.strip()) if scheme.lower() == "bearer" else None
            if uid is None:
                raise Unauthorized("Invalid apikey", 401)
            db = self.headers.get("X-Odoo-Database")
            if db and db != self.sim.database:
                raise NotFound(f"database {db!r} not found")
            try:
                params = json.loads(body or b"{}")
            except ValueError as e:
                raise BadRequest(f"could not parse the body as json: {e}") from None
            if not isinstance(params, dict):
                raise BadRequest("could not parse the body as json: expected an object")
            ids = params.pop("ids", None)
            context = params.pop("context", None) or {}
            after = self._faults(model, method, ids)
            result = self._execute(uid, model, method, ids, [], params, context, json2=True)
            result = self._after(after, method, result)
        except SimError as e:
            self._json2_error(e)
            return
        self._send(200, result)

    # -- control endpoint ---------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        sim = self.sim
        return {
            "url": sim.url,
            "database": sim.database,
            "login": sim.login,
            "api_key": sim.api_key,
            "version": sim.version,
            "uid": sim.uid,
            "rpc_disabled": sim.rpc_disabled,
        }

    def _control(self, path: str, body: bytes) -> None:
        """``POST /_sim/faults|users|settings|exec|control/<method>`` — see the package
        docstring and :mod:`.control`."""
        sim = self.sim
        try:
            data = json.loads(body or b"{}")
            if path == "/_sim/faults":
                rule = sim.faults.add(data)
                self._send(200, rule.to_dict())
            elif path == "/_sim/users":
                login = data.get("login", sim.login)
                sim.set_user(
                    login,
                    groups=data.get("groups"),
                    company_ids=data.get("company_ids"),
                    company_id=data.get("company_id"),
                )
                for model, ops in (data.get("revoke") or {}).items():
                    sim.revoke(login, model, *ops)
                for model, ops in (data.get("grant") or {}).items():
                    sim.grant(login, model, *ops)
                if data.get("expire_api_key"):
                    sim.expire_api_key(login)
                self._send(200, True)
            elif path == "/_sim/settings":
                if "rpc_disabled" in data:
                    sim.rpc_disabled = bool(data["rpc_disabled"])
                self._send(200, self._info())
            elif path.startswith("/_sim/control/"):
                name = path.removeprefix("/_sim/control/")
                self._send(200, {"result": sim.control.call(name, data)})
            elif path == "/_sim/exec":
                env = sim.env.with_context(**(data.get("context") or {}))
                result = getattr(env[data["model"]], data["method"])(
                    *(data.get("args") or []), **(data.get("kwargs") or {})
                )
                self._send(200, {"result": result})
            else:
                self._html_404()
        except SimError as e:
            self._send(e.http_status, self._serialize(e))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            self._send(400, {"error": f"{type(e).__name__}: {e}"})


class _ProxyStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _RpcDisabled(Exception):
    """19+ with ``rpc.use_deprecated_services`` off: 404 on ``/jsonrpc`` (odoo.md §2.2)."""


UNIQUE_XMLID = (
    'duplicate key value violates unique constraint "ir_model_data_module_name_uniq_index"\n'
    "DETAIL:  Key (module, name) already exists."
)


def _lost_race(method: str, result: Any) -> Any:
    """The answer the loser of a race on a stamp gets (the winner's call has committed)."""
    if method == "load" and isinstance(result, dict) and isinstance(result.get("ids"), list):
        messages = [
            {
                "type": "error",
                "record": i,
                "rows": {"from": i, "to": i},
                "message": f"The operation cannot be completed: {UNIQUE_XMLID}",
            }
            for i in range(len(result["ids"]))
        ]
        return {"ids": False, "messages": messages, "nextrow": 0}
    raise sql_error(UNIQUE_XMLID)
