"""The link writer: the one code path that writes links, for every flow (DESIGN §3.4, §7).

A link is written "not synced" right after the remote record is created or adopted — so a crash
anywhere later resumes through it, and a retry never takes the record for "unchanged" — and
"synced at version V" only when every action of the plan took effect. Each write is one
statement; when another worker linked the record first, its link wins and is returned, and the
caller carries on with that one ("a conflict means adopt").
"""

from __future__ import annotations

from dataclasses import dataclass

from shopodoo_console.store import links as store_links
from shopodoo_console.store.db import Store
from shopodoo_console.store.links import LinkRow


@dataclass(frozen=True)
class Synced:
    """A link's sync state: the source version last brought in step, and a digest of the
    source fields the flow reads at that version (so an unchanged re-sighting costs nothing).

    ``version`` is our own version when our write-back bumped the source's ``updatedAt`` and
    read it back: a poll sighting of exactly that version is our own write, not a change.
    """

    version: str
    digest: str

    def encode(self) -> str:
        return f"{self.version}|{self.digest}"

    @classmethod
    def parse(cls, text: str | None) -> Synced | None:
        """``None`` for a link that is not synced (a create or adoption not finished)."""
        if not text or "|" not in text:
            return None
        version, _, digest = text.rpartition("|")
        return cls(version, digest)


@dataclass(frozen=True)
class LinkTarget:
    """A Shopify record and the Odoo record it is (or becomes) linked to."""

    shop_id: int
    kind: str
    shopify_id: str
    odoo_model: str
    odoo_id: int
    label: str = ""


@dataclass(frozen=True)
class Linked:
    """The link as it stands after a write.

    ``row`` is ``None`` when the Odoo record is already linked to another Shopify record
    (``taken_by`` says which); ``ours`` is false when another worker linked this Shopify record
    to a different Odoo record first — its ``row`` is the one to carry on with.
    """

    row: LinkRow | None
    ours: bool
    taken_by: LinkRow | None = None

    @property
    def odoo_id(self) -> int | None:
        return self.row.odoo_id if self.row else None


class LinkWriter:
    def __init__(self, store: Store) -> None:
        self.store = store

    def unsynced(self, target: LinkTarget, *, digest: str | None = None) -> Linked:
        """Right after a create or an adoption: linked, not in step yet."""
        return self._write(target, None, digest)

    def synced(self, target: LinkTarget, state: Synced, *, digest: str | None = None) -> Linked:
        """Every action of the plan took effect: in step at ``state.version``."""
        return self._write(target, state.encode(), digest)

    def identity(self, target: LinkTarget) -> Linked:
        """Only who is who (a customer ↔ contact): the sync state is left as it is."""
        return self._write(target, store_links.KEEP, None)

    def _write(
        self, target: LinkTarget, version: str | object | None, digest: str | None
    ) -> Linked:
        row = store_links.write_link(
            self.store,
            target.shop_id,
            target.kind,
            target.shopify_id,
            target.odoo_model,
            target.odoo_id,
            label=target.label,
            last_version=version,
            digest=digest,
        )
        if row is None:
            taken = store_links.find_link_by_odoo(
                self.store, target.shop_id, target.kind, target.odoo_model, target.odoo_id
            )
            return Linked(None, False, taken)
        ours = row.odoo_model == target.odoo_model and row.odoo_id == target.odoo_id
        return Linked(row, ours)


def synced_state(link: LinkRow | None) -> Synced | None:
    return Synced.parse(link.last_version) if link is not None else None
