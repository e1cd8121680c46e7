"""A small generic ORM with Odoo's external behaviour (odoo.md §4, §5, §7).

Models are declared as :class:`ModelDef` (fields + hooks + public methods); :class:`Env` is
the (user, context) a call runs as; :class:`Model` implements ``search``/``read``/``create``/
``write``/``unlink``/``fields_get``/``name_search`` with access rights, multi-company record
rules, x2many commands and many2one ``[id, display_name]`` reads. ``load()`` lives in
``load.py``; business methods in ``business.py``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import domain as dom
from .errors import PyError, UserError, ValidationError, missing_error, sql_error
from .store import Row, Store

if TYPE_CHECKING:
    from .security import Security

SUPERUSER = 1
X2MANY = ("one2many", "many2many")


@dataclass
class Field:
    """One field: its type and what ``fields_get`` says about it."""

    type: str
    string: str = ""
    relation: str | None = None
    inverse: str | None = None  # one2many: the many2one on ``relation`` pointing back
    required: bool = False
    readonly: bool = False
    selection: list[tuple[str, str]] | None = None
    default: Any = None  # a value, or callable(env) -> value
    compute: Callable[[Env, Row], Any] | None = None
    related: tuple[str, str] | None = None  # (many2one here, field on the target)
    check_company: bool = False
    ondelete: str = "set null"  # many2one: "cascade" | "restrict" | "set null"
    name: str = ""

    @property
    def stored(self) -> bool:
        return self.compute is None and self.related is None and self.type != "one2many"

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "string": self.string or self.name.replace("_", " ").title(),
            "required": self.required,
            "readonly": self.readonly or self.compute is not None,
            "store": self.stored or self.type == "one2many",
        }
        if self.relation:
            d["relation"] = self.relation
        if self.inverse:
            d["relation_field"] = self.inverse
        if self.selection is not None:
            d["selection"] = [list(s) for s in self.selection]
        return d


Hook = Callable[["Model", dict[str, Any]], None]


@dataclass
class ModelDef:
    """A model: fields, how its records are named, hooks and public business methods."""

    name: str
    description: str
    fields: dict[str, Field]
    rec_name: str = "name"
    order: str = "id"
    display: Callable[[Env, Row], str] | None = None
    prepare_create: Hook | None = None  # fill sequences/defaults that depend on values
    after_create: Callable[[Model, list[int]], None] | None = None
    check_unlink: Callable[[Model, list[int]], None] | None = None
    # public methods: name -> (function, is_model_method)
    methods: dict[str, tuple[Callable[..., Any], bool]] = field(default_factory=dict)
    parent_field: str | None = None  # for child_of
    delegate: tuple[str, str] | None = None  # _inherits: (model, many2one field)
    indexed: tuple[str, ...] = ()  # other stored fields kept in the store's reverse index

    def __post_init__(self) -> None:
        base = {
            "id": Field("integer", "ID", readonly=True),
            "display_name": Field("char", "Display Name", compute=_display_name),
            "create_date": Field("datetime", "Created on", readonly=True),
            "write_date": Field("datetime", "Last Updated on", readonly=True),
            "create_uid": Field("many2one", "Created by", relation="res.users", readonly=True),
            "write_uid": Field("many2one", "Last Updated by", relation="res.users", readonly=True),
        }
        self.fields = {**base, **self.fields}
        for fname, f in self.fields.items():
            f.name = fname

    @property
    def m2o_fields(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.fields.items() if f.type == "many2one" and f.stored)

    @property
    def has_company(self) -> bool:
        return "company_id" in self.fields and self.fields["company_id"].stored


def _display_name(env: Env, row: Row) -> str:
    mdef = env.registry[row["__model__"]]
    if mdef.display is not None:
        return mdef.display(env, row)
    value = row.get(mdef.rec_name)
    return str(value) if value else f"{mdef.name},{row['id']}"


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


class Env:
    """Who calls and with which context; ``env[model]`` gives a :class:`Model`."""

    def __init__(
        self,
        registry: dict[str, ModelDef],
        store: Store,
        security: Security,
        uid: int,
        context: dict[str, Any] | None = None,
        *,
        su: bool = False,
        version: int = 19,
    ) -> None:
        self.registry = registry
        self.store = store
        self.security = security
        self.uid = uid
        self.context = dict(context or {})
        self.su = su or uid == SUPERUSER
        self.version = version
        self.user = store.tables["res.users"].get(uid, {"id": uid, "name": "OdooBot"})
        self.company_id, self.company_ids = security.companies_for(self)

    def __getitem__(self, model: str) -> Model:
        if model not in self.registry:
            raise KeyError(model)
        return Model(self, self.registry[model])

    def sudo(self) -> Env:
        return self.with_context(su=True)

    def with_context(self, su: bool | None = None, **ctx: Any) -> Env:
        return Env(
            self.registry,
            self.store,
            self.security,
            self.uid,
            {**self.context, **ctx},
            su=self.su if su is None else su,
            version=self.version,
        )


class Model:
    """The ORM operations of one model as seen by one :class:`Env`."""

    def __init__(self, env: Env, mdef: ModelDef) -> None:
        self.env = env
        self.d = mdef
        self.name = mdef.name

    # -- helpers --------------------------------------------------------------------------

    @property
    def table(self) -> dict[int, Row]:
        return self.env.store.tables[self.name]

    def sudo(self) -> Model:
        return Model(self.env.sudo(), self.d)

    def with_context(self, **ctx: Any) -> Model:
        return Model(self.env.with_context(**ctx), self.d)

    def row(self, rid: int) -> Row:
        row = self.table.get(rid)
        if row is None:
            raise missing_error(self.name, [rid], self.env.uid)
        return row

    def exists(self, ids: Iterable[int]) -> list[int]:
        return [i for i in ids if i in self.table]

    def value(self, row: Row, fname: str) -> Any:
        """A field's value on a row, computing computed, related and one2many fields."""
        f = self.d.fields.get(fname)
        if f is None:
            raise PyError("ValueError", f"Invalid field {fname!r} on model {self.name!r}")
        if f.stored:
            default: Any = [] if f.type in X2MANY else False
            return row.get(fname, default)
        if f.compute is not None:
            return f.compute(self.env, {**row, "__model__": self.name})
        if f.type == "one2many":
            assert f.relation and f.inverse
            return self.env.store.referencing(f.relation, f.inverse, row["id"])
        if f.related:
            via, target = f.related
            ref = row.get(via)
            if not ref:
                return False
            sub = self.env[self.d.fields[via].relation or ""]
            other = sub.table.get(ref)
            return sub.value(other, target) if other else False
        raise PyError("ValueError", f"Field {self.name}.{fname} has no value")

    def display_name(self, rid: int) -> str:
        row = self.table.get(rid)
        return self.value(row, "display_name") if row else f"{self.name},{rid}"

    # -- search ---------------------------------------------------------------------------

    def _leaf(self, row: Row, path: str, op: str, right: Any) -> bool:
        head, _, rest = path.partition(".")
        f = self.d.fields.get(head)
        if f is None:
            raise PyError("ValueError", f"Invalid field {self.name}.{head} in leaf ({path!r})")
        value = self.value(row, head)
        if rest:
            sub = Model(self.env, self.env.registry[f.relation or ""])
            targets = value if f.type in X2MANY else ([value] if value else [])
            rows = [sub.table[t] for t in targets if t in sub.table]
            if op in ("!=", "not in", "not like", "not ilike"):
                return not any(sub._leaf(r, rest, _positive(op), right) for r in rows)
            return any(sub._leaf(r, rest, op, right) for r in rows)
        if op in ("child_of", "parent_of"):
            return value in self._hierarchy(f, right, op)
        if f.type == "many2one" and isinstance(right, str) and op not in ("=?",):
            name = self.env[f.relation or ""].display_name(value) if value else False
            return dom.compare(name, op, right)
        return dom.compare(value, op, right, many=f.type in X2MANY)

    def _hierarchy(self, f: Field, right: Any, op: str) -> set[int]:
        target = self.env[f.relation or self.name] if f.name != "id" else self
        parent = target.d.parent_field or "parent_id"
        roots = set(right if isinstance(right, list | tuple) else [right])
        found = set(roots)
        if op == "child_of":
            frontier = set(roots)
            while frontier:
                frontier = {
                    i for r in frontier for i in self.env.store.referencing(target.name, parent, r)
                } - found
                found |= frontier
        else:
            for r in roots:
                row = target.table.get(r)
                while row and row.get(parent):
                    found.add(row[parent])
                    row = target.table.get(row[parent])
        return found

    def _visible(self, row: Row) -> bool:
        return self.env.su or self.env.security.rule_allows(self, row)

    def search(
        self,
        domain: Sequence[Any] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        self.env.security.check_access(self, "read")
        tree = dom.parse(domain)
        end = None if not limit else int(offset or 0) + int(limit)
        by_id = (order or self.d.order).replace(" ", "").lower() in ("id", "idasc")
        rows = []
        for r in self._candidates(tree, by_id):
            if self._active(r, domain) and self._visible(r) and dom.evaluate(tree, r, self._leaf):
                rows.append(r)
                if by_id and end is not None and len(rows) >= end:
                    break  # candidates come in id order: the page is full
        rows = self._sort(rows, order or self.d.order)
        ids = [r["id"] for r in rows]
        return ids[int(offset or 0) : end]

    def _candidates(self, tree: dom.Node, by_id: bool = False) -> Iterable[Row]:
        """The rows a search must test: all of them, or — when the domain requires
        ``id``/an indexed field ``=``/``in`` some values — the few the store's index names
        (the whole domain is still checked on each). ``by_id``: in id order, from the
        domain's lower ``id`` bound (keyset paging reads a page, not the table)."""
        best = self._indexed_ids(tree)
        if best is not None:
            return [self.table[i] for i in sorted(best) if i in self.table]
        if not by_id:
            return self.table.values()
        ids = sorted(self.table)
        low = max(
            (
                (leaf[3] + (1 if leaf[2] == ">" else 0))
                for leaf in dom.required_leaves(tree)
                if leaf[1] == "id" and leaf[2] in (">", ">=") and isinstance(leaf[3], int)
            ),
            default=None,
        )
        if low is not None:
            ids = ids[bisect.bisect_left(ids, low) :]
        return (self.table[i] for i in ids)

    def _indexed_ids(self, tree: dom.Node) -> set[int] | None:
        best: set[int] | None = None
        for leaf in dom.required_leaves(tree):
            _, path, op, right = leaf
            if op not in ("=", "in") or "." in path or path not in self.d.fields:
                continue
            if op == "=" and isinstance(right, list | tuple):
                continue
            values = list(right) if isinstance(right, list | tuple) else [right]
            if any(v is False or v is None or isinstance(v, list | dict) for v in values):
                continue
            if self.d.fields[path].type == "many2one" and not all(
                isinstance(v, int) and not isinstance(v, bool) for v in values
            ):
                continue  # a name, compared with the display name: no index for that
            if path == "id":
                ids = {v for v in values if isinstance(v, int) and v in self.table}
            elif path in self.env.store.m2o_fields.get(self.name, ()):
                index = self.env.store.reverse[(self.name, path)]
                ids = set().union(*(index.get(v, ()) for v in values)) if values else set()
            else:
                continue
            if best is None or len(ids) < len(best):
                best = ids
        return best

    def _active(self, row: Row, domain: Sequence[Any] | None) -> bool:
        """Archived records are hidden unless the domain mentions ``active`` (Odoo's rule)."""
        if "active" not in self.d.fields or row.get("active", True):
            return True
        return any(isinstance(t, list | tuple) and t and t[0] == "active" for t in domain or [])

    def _sort(self, rows: list[Row], order: str) -> list[Row]:
        for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
            fname, _, direction = part.partition(" ")
            if fname not in self.d.fields:
                raise PyError("ValueError", f"Invalid field {fname!r} on model {self.name!r}")
            desc = direction.strip().lower() == "desc"

            def key(r: Row, fname: str = fname) -> tuple[int, Any]:
                v = self.value(r, fname)
                if isinstance(v, list):
                    v = v[0] if v else None
                return (0, v) if v not in (None, False) else (1, "")

            rows.sort(key=key, reverse=desc)
        return rows

    def search_count(self, domain: Sequence[Any] | None = None, limit: int | None = None) -> int:
        return len(self.search(domain, limit=limit))

    # -- read -----------------------------------------------------------------------------

    def read(
        self, ids: Sequence[int], fields: Sequence[str] | None = None, load: str | None = None
    ) -> list[dict[str, Any]]:
        self.env.security.check_access(self, "read")
        names = list(fields) if fields else [n for n in self.d.fields if n != "__model__"]
        for n in names:
            if n not in self.d.fields:
                raise PyError("ValueError", f"Invalid field {n!r} on model {self.name!r}")
        missing = [i for i in ids if i not in self.table]
        if missing:
            raise missing_error(self.name, missing, self.env.uid)
        rows = [self.table[i] for i in ids]
        self.env.security.check_rules(self, rows, "read")
        out = []
        for row in rows:
            rec: dict[str, Any] = {"id": row["id"]}
            for n in names:
                rec[n] = self._export(row, n, load)
            out.append(rec)
        return out

    def _export(self, row: Row, fname: str, load: str | None) -> Any:
        f = self.d.fields[fname]
        value = self.value(row, fname)
        if f.type == "many2one":
            if not value:
                return False
            if load == "_classic_read":
                return [value, self.env[f.relation or ""].display_name(value)]
            return value
        if value is None:
            return False
        return list(value) if isinstance(value, list | tuple) else value

    def search_read(
        self,
        domain: Sequence[Any] | None = None,
        fields: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        ids = self.search(domain, offset=offset, limit=limit, order=order)
        return self.read(ids, fields, load="_classic_read")

    def fields_get(
        self, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        self.env.security.check_access(self, "read")
        out = {}
        for n, f in self.d.fields.items():
            if allfields and n not in allfields:
                continue
            desc = f.describe()
            if attributes:
                desc = {k: v for k, v in desc.items() if k in attributes}
            out[n] = desc
        return out

    def name_search(
        self,
        name: str = "",
        domain: Sequence[Any] | None = None,
        operator: str = "ilike",
        limit: int = 100,
    ) -> list[list[Any]]:
        ids = self.search(domain or [], order=self.d.order)
        out = []
        for rid in ids:
            label = self.display_name(rid)
            if not name or dom.compare(label, operator, name):
                out.append([rid, label])
            if limit and len(out) >= limit:
                break
        return out

    # -- create / write / unlink ------------------------------------------------------------

    def create(self, vals_list: list[dict[str, Any]] | dict[str, Any]) -> list[int]:
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        if not isinstance(vals_list, list) or not all(isinstance(v, dict) for v in vals_list):
            raise PyError("TypeError", "create() expects a dict or a list of dicts")
        self.env.security.check_access(self, "create")
        ids = []
        for vals in vals_list:
            ids.append(self._create_one(dict(vals)))
        if self.d.after_create:
            self.d.after_create(self, ids)
        return ids

    def _create_one(self, vals: dict[str, Any]) -> int:
        self._check_names(vals)
        for key, value in self.env.context.items():  # Odoo's ``default_<field>`` context keys
            if key.startswith("default_") and key[8:] in self.d.fields and key[8:] not in vals:
                vals[key[8:]] = value
        for n, f in self.d.fields.items():
            if n not in vals and f.default is not None:
                vals[n] = f.default(self.env) if callable(f.default) else f.default
        if self.d.prepare_create:
            self.d.prepare_create(self, vals)
        if self.d.delegate:
            self._delegate_create(vals)
        store = self.env.store
        rid = store.new_id(self.name)
        stamp = now()
        row: Row = {
            "id": rid,
            "create_date": stamp,
            "write_date": stamp,
            "create_uid": self.env.uid,
            "write_uid": self.env.uid,
        }
        later: dict[str, Any] = {}
        for n, v in vals.items():
            f = self.d.fields[n]
            if f.stored:
                row[n] = self._convert(f, v, [])
            elif f.type == "one2many" or f.related:
                later[n] = v
            # other computed fields are ignored on create, as Odoo does without an inverse
        for n, f in self.d.fields.items():
            if f.stored and n not in row:
                row[n] = [] if f.type in X2MANY else False
            if f.required and f.stored and (row.get(n) is False or row.get(n) is None):
                raise self._not_null(f)
        store.insert(self.name, row)
        self.env.security.check_rules(self, [row], "create")
        self._write_later(rid, later)
        self._check_company([row])
        return rid

    def _delegate_create(self, vals: dict[str, Any]) -> None:
        """``_inherits``: values of the parent model's fields go to a parent record."""
        assert self.d.delegate
        parent_model, link = self.d.delegate
        parent = self.env[parent_model].sudo()
        mine = {n for n, f in self.d.fields.items() if not f.related}
        pvals = {n: vals.pop(n) for n in list(vals) if n not in mine and n in parent.d.fields}
        if not vals.get(link):
            pvals.setdefault("name", vals.get("name", "New"))
            vals[link] = parent.with_context(create_product_product=False).create([pvals])[0]
        elif pvals:
            parent.write([vals[link]], pvals)

    def write(self, ids: Sequence[int], vals: dict[str, Any]) -> bool:
        if not isinstance(vals, dict):
            raise PyError("TypeError", "write() expects a dict of values")
        self.env.security.check_access(self, "write")
        self._check_names(vals)
        missing = [i for i in ids if i not in self.table]
        if missing:
            raise missing_error(self.name, missing, self.env.uid)
        rows = [self.table[i] for i in ids]
        self.env.security.check_rules(self, rows, "write")
        for rid in ids:
            self._write_one(rid, dict(vals))
        self._check_company([self.table[i] for i in ids])
        return True

    def _write_one(self, rid: int, vals: dict[str, Any]) -> None:
        row = self.table[rid]
        changes: Row = {"write_date": now(), "write_uid": self.env.uid}
        later: dict[str, Any] = {}
        for n, v in vals.items():
            f = self.d.fields[n]
            if n in ("id", "create_date", "write_date", "create_uid", "write_uid"):
                continue
            if not f.stored:
                if f.type == "one2many" or f.related:
                    later[n] = v
                continue
            changes[n] = self._convert(f, v, row.get(n) or [])
            if f.required and (changes[n] is False or changes[n] is None):
                raise self._not_null(f)
        self.env.store.update(self.name, rid, changes)
        self._write_later(rid, later)

    def _write_later(self, rid: int, later: dict[str, Any]) -> None:
        """one2many commands and writes through related/delegated fields."""
        for n, v in later.items():
            f = self.d.fields[n]
            if f.type == "one2many":
                self._o2m_commands(rid, f, v)
            elif f.related:
                via, target = f.related
                ref = self.table[rid].get(via)
                if ref:
                    self.env[self.d.fields[via].relation or ""].sudo().write([ref], {target: v})

    def _o2m_commands(self, rid: int, f: Field, commands: Any) -> None:
        sub = Model(self.env, self.env.registry[f.relation or ""])
        assert f.inverse
        for cmd in _commands(commands, f):
            code = cmd[0]
            if code == 0:
                sub.create([{**cmd[2], f.inverse: rid}])
            elif code == 1:
                sub.write([cmd[1]], cmd[2])
            elif code == 2:
                sub.unlink([cmd[1]])
            elif code == 3:
                sub.write([cmd[1]], {f.inverse: False})
            elif code == 4:
                sub.write([cmd[1]], {f.inverse: rid})
            elif code in (5, 6):
                keep = set(cmd[2]) if code == 6 else set()
                for child in self.env.store.referencing(sub.name, f.inverse, rid):
                    if child not in keep:
                        sub.unlink([child])
                if keep:
                    sub.write(sorted(keep), {f.inverse: rid})

    def _convert(self, f: Field, value: Any, current: list[int]) -> Any:
        """Check and normalise one stored value (many2one ids, selections, m2m commands)."""
        if f.type == "many2one":
            if isinstance(value, list | tuple) and value:  # [id, name] from a read
                value = value[0]
            if value in (None, False, 0):
                return False
            if not isinstance(value, int) or isinstance(value, bool):
                raise PyError("ValueError", f"Wrong value for {self.name}.{f.name}: {value!r}")
            if value not in self.env.store.tables[f.relation or ""]:
                raise sql_error(
                    "another model requires the record being deleted. If possible, archive it "
                    f"instead.\n\nModel: {self.d.description} ({self.name})\n"
                    f"Constraint: {self.name.replace('.', '_')}_{f.name}_fkey"
                )
            return value
        if f.type == "many2many":
            ids = list(current)
            for cmd in _commands(value, f):
                if cmd[0] == 6:
                    ids = list(cmd[2])
                elif cmd[0] == 4 and cmd[1] not in ids:
                    ids.append(cmd[1])
                elif cmd[0] == 3 and cmd[1] in ids:
                    ids.remove(cmd[1])
                elif cmd[0] == 5:
                    ids = []
                else:
                    raise PyError("ValueError", f"Unsupported command {cmd!r} on {f.name}")
            table = self.env.store.tables[f.relation or ""]
            for i in ids:
                if i not in table:
                    raise self.env[f.relation or ""]._missing([i])
            return ids
        if f.type == "selection" and value not in (False, None):
            allowed = {k for k, _ in f.selection or []}
            if value not in allowed:
                raise PyError("ValueError", f"Wrong value for {self.name}.{f.name}: {value!r}")
        if f.type in ("float", "monetary") and value not in (False, None):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise PyError("ValueError", f"Wrong value for {self.name}.{f.name}: {value!r}")
            return float(value)
        if f.type == "integer" and value not in (False, None) and not isinstance(value, int):
            raise PyError("ValueError", f"Wrong value for {self.name}.{f.name}: {value!r}")
        if f.type == "boolean":
            return bool(value)
        if f.type in ("char", "text") and value not in (False, None) and not isinstance(value, str):
            value = str(value)
        return False if value is None else value

    def _missing(self, ids: list[int]) -> Exception:
        return missing_error(self.name, ids, self.env.uid)

    def _not_null(self, f: Field) -> ValidationError:
        return sql_error(
            "\n- Create/update: a mandatory field is not set.\n- Delete: another model requires "
            "the record being deleted. If possible, archive it instead.\n\n"
            f"Model: {self.d.description} ({self.name})\nField: {f.string} ({f.name})"
        )

    def _check_names(self, vals: dict[str, Any]) -> None:
        for n in vals:
            if n not in self.d.fields:
                raise PyError("ValueError", f"Invalid field {n!r} on model {self.name!r}")

    def _check_company(self, rows: list[Row]) -> None:
        """Odoo's ``_check_company``: linked records must share the record's company (§3.4)."""
        if not self.d.has_company:
            return
        for row in rows:
            company = row.get("company_id")
            if not company:
                continue
            for n, f in self.d.fields.items():
                if not f.check_company or not f.stored:
                    continue
                sub = self.env[f.relation or ""]
                if not sub.d.has_company:
                    continue
                targets = row.get(n) or []
                for t in targets if isinstance(targets, list) else [targets]:
                    other = sub.table.get(t)
                    if other and other.get("company_id") and other["company_id"] != company:
                        cname = self.env["res.company"].display_name(company)
                        raise UserError(
                            "Incompatible companies on records:\n"
                            f"- '{self.display_name(row['id'])}' belongs to company '{cname}' "
                            f"and '{f.string}' ({n}: '{sub.display_name(t)}') belongs to "
                            "another company."
                        )

    def unlink(self, ids: Sequence[int]) -> bool:
        self.env.security.check_access(self, "unlink")
        missing = [i for i in ids if i not in self.table]
        if missing:
            raise missing_error(self.name, missing, self.env.uid)
        self.env.security.check_rules(self, [self.table[i] for i in ids], "unlink")
        if self.d.check_unlink:
            self.d.check_unlink(self, list(ids))
        for rid in ids:
            self._unlink_one(rid)
        return True

    def _unlink_one(self, rid: int) -> None:
        store = self.env.store
        if rid not in self.table:
            return
        store.delete(self.name, rid)
        for mname, mdef in self.env.registry.items():
            for fname in mdef.m2o_fields:
                if mdef.fields[fname].relation != self.name:
                    continue
                for child in store.referencing(mname, fname, rid):
                    f = mdef.fields[fname]
                    if f.ondelete == "cascade":
                        Model(self.env.sudo(), mdef)._unlink_one(child)
                    elif f.ondelete == "restrict" or f.required:
                        raise sql_error(
                            "another model requires the record being deleted. If possible, "
                            f"archive it instead.\n\nModel: {mdef.description} ({mname})\n"
                            f"Constraint: {mname.replace('.', '_')}_{fname}_fkey"
                        )
                    else:
                        store.update(mname, child, {fname: False})
        # External ids of a deleted record go with it (odoo.md §5.1).
        imd = store.tables["ir.model.data"]
        for xid in [
            k for k, r in imd.items() if r.get("model") == self.name and r.get("res_id") == rid
        ]:
            store.delete("ir.model.data", xid)


def _positive(op: str) -> str:
    return {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}[op]


def _commands(value: Any, f: Field) -> list[tuple[Any, ...]]:
    """x2many commands as tuples; a plain id list means ``(6, 0, ids)``."""
    if value in (False, None):
        return [(5,)]
    if not isinstance(value, list | tuple):
        raise PyError("ValueError", f"Wrong value for {f.name}: {value!r}")
    if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [(6, 0, list(value))]
    out = []
    for cmd in value:
        if not isinstance(cmd, list | tuple) or not cmd or cmd[0] not in range(7):
            raise PyError("ValueError", f"Invalid command {cmd!r} for field {f.name}")
        cmd = tuple(cmd) + (0, 0)[: max(0, 3 - len(cmd))]
        if cmd[0] in (0, 1) and not isinstance(cmd[2], dict):
            raise PyError("ValueError", f"Invalid command {list(cmd)!r} for field {f.name}")
        if cmd[0] == 6 and not isinstance(cmd[2], list | tuple):
            raise PyError("ValueError", f"Invalid command {list(cmd)!r} for field {f.name}")
        out.append(cmd)
    return out
