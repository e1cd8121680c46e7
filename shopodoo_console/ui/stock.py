"""What the console shows of the stock flow, read in worker threads (pure: no Textual).

* The Mappings screen's **Locations** tab lists every Shopify location — mapped, or not yet
  with the Odoo stock location suggested for it (by address: names rarely agree) — and its
  **Products** tab lists the variants the stock flow leaves alone, with the reason, and the
  product mapping that would fix it when one can.
* The Dashboard shows a running (or just finished) resync as a progress bar with its ETA.

Shopify's locations and the suggestions need the clients, so they come through an injected
:data:`LocationLister` (the launcher caches them for a minute); everything else is read from
the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from shopodoo_console.engine.mappings import KINDS
from shopodoo_console.store import stock as store_stock
from shopodoo_console.store.db import Store
from shopodoo_console.store.stock import ResyncProgress
from shopodoo_console.ui.checks import Suggestion
from shopodoo_console.ui.reads import MappingEntry, MappingsData

if TYPE_CHECKING:
    from shopodoo_console.engine.core import Engine

RECENT_SECONDS = 600.0  # a finished resync stays on the dashboard this long
BAR = 28


@dataclass(frozen=True)
class ShopifyLocationView:
    """A Shopify location as the Locations tab lists it."""

    id: str
    name: str
    place: str
    active: bool
    fulfillment_service: bool
    suggestions: tuple[Suggestion, ...] = ()


LocationLister = Callable[[str], list[ShopifyLocationView]]
"""``shop`` → its Shopify locations with the Odoo locations suggested for each (network)."""

ResyncStarter = Callable[[str], str]
"""``shop`` → starts (or takes up) the shop's stock resync and lists its variants (long: a
worker thread); returns what it did, in a sentence. The engine's workers run the jobs."""

ResyncCanceller = Callable[[str], str]


def no_locations(shop: str) -> list[ShopifyLocationView]:
    return []


def no_resync(shop: str) -> str:
    raise RuntimeError("a stock resync needs the Shopify and Odoo clients (not in this build)")


# ---------------------------------------------------------------- mappings


def with_stock_rows(
    data: MappingsData,
    engine: Engine,
    store: Store,
    locations: LocationLister,
) -> MappingsData:
    """The Mappings data of ``data.kind`` with what the stock flow adds to it."""
    if data.kind == "location":
        return replace(data, entries=_location_rows(data, engine, store, locations))
    if data.kind == "product":
        return replace(data, entries=[*data.entries, *_skipped_variants(engine, store)])
    return data


def _location_rows(
    data: MappingsData, engine: Engine, store: Store, locations: LocationLister
) -> list[MappingEntry]:
    """Every Shopify location: mapped ones named, unmapped ones with the best suggestion."""
    entries = list(data.entries)
    for _shop_id, ref in sorted(engine.shops.items(), key=lambda kv: kv[1].domain):
        try:
            listed = locations(ref.domain)
        except Exception as exc:  # Shopify or Odoo unreachable: say so, keep the mappings
            entries.append(_unreadable(ref.domain, exc))
            continue
        entries = _shop_locations(ref.domain, listed, entries)
    order = {"": 1, "unmapped": 0, "inactive": 2}
    entries.sort(key=lambda e: (order.get(e.status, 1) if e.odoo_id is None else 1, e.shown))
    return entries


def _shop_locations(
    shop: str, listed: list[ShopifyLocationView], entries: list[MappingEntry]
) -> list[MappingEntry]:
    """One shop's locations merged into the rows: known ones get their Shopify name (and the
    suggestion, when a job waits on one not mapped yet), the others a row of their own."""
    names: dict[str, str] = {}
    for loc in listed:
        names[loc.id] = loc.name
        best = loc.suggestions[0] if loc.suggestions else None
        hint = f"suggested: {best.odoo_id} {best.label} ({best.why})" if best else ""
        known = [e for e in entries if e.shop == shop and e.source_key == loc.id]
        if known:
            entries = [_suggest(e, hint) if e in known else e for e in entries]
        else:
            entries.append(_unmapped(shop, loc, hint))
    return [
        replace(e, shown=names.get(e.source_key, e.shown))
        if e.shop == shop and e.kind == "location"
        else e
        for e in entries
    ]


def _unmapped(shop: str, loc: ShopifyLocationView, hint: str) -> MappingEntry:
    """A Shopify location no mapping names: what happens to it, and the best suggestion."""
    flags = [] if loc.active else ["inactive"]
    if loc.fulfillment_service:
        flags.append("fulfillment service")
    left = "levels left as they are" if loc.active else "sells nothing"
    note = f"not mapped: {left}" + (f" · {', '.join(flags)}" if flags else "")
    return MappingEntry(
        shop,
        "location",
        loc.id,
        KINDS["location"],
        None,
        hint or note,
        0,
        status="unmapped" if loc.active else "inactive",
        shown=loc.name,
        note=note,
    )


def _suggest(entry: MappingEntry, hint: str) -> MappingEntry:
    """A location some job waits on (missing, no label yet) shows the suggestion too."""
    if entry.odoo_id is not None or entry.label or not hint:
        return entry
    return replace(entry, label=hint)


def _unreadable(shop: str, exc: Exception) -> MappingEntry:
    reason = getattr(getattr(exc, "cause", None), "missing", None) or str(exc)
    return MappingEntry(
        shop,
        "location",
        "",
        KINDS["location"],
        None,
        f"could not read Shopify's locations: {reason}",
        0,
        status="left alone",
        shown="(Shopify locations)",
        note=f"could not read Shopify's locations: {reason}",
    )


def _skipped_variants(engine: Engine, store: Store) -> list[MappingEntry]:
    """Variants the stock flow leaves alone: those a product mapping would fix first."""
    out = []
    for shop_id, ref in sorted(engine.shops.items(), key=lambda kv: kv[1].domain):
        for skip in store_stock.list_skips(store, shop_id, ("variant", "level"), limit=300):
            fixable = skip.kind == "variant" and skip.mapping_key is not None
            out.append(
                MappingEntry(
                    ref.domain,
                    "product",
                    skip.mapping_key or skip.subject,
                    KINDS["product"],
                    None,
                    f"stock: {skip.reason}",
                    0,
                    status="skipped" if fixable else "left alone",
                    shown=skip.label,
                    note=skip.reason,
                )
            )
    out.sort(key=lambda e: (e.status != "skipped", e.shown))
    return out


# ---------------------------------------------------------------- dashboard and CLI


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(domain: str, p: ResyncProgress) -> str:
    """``shop [████░░░] 42% 420/1000 variants · 180/min · ETA 3m12s · 2 need you``."""
    filled = round(p.fraction * BAR)
    bar = "█" * filled + "░" * (BAR - filled)
    parts = [f"{domain} [{bar}] {p.fraction:4.0%} {p.finished}/{p.total} variants"]
    if p.resync.state == "listing":
        parts.append(f"listing ({p.resync.variants} so far)")
    if p.rate and p.resync.active:
        parts.append(f"{p.rate * 60:.0f}/min")
    if p.eta is not None:
        parts.append(f"ETA {duration(p.eta)}")
    elif p.resync.active:
        parts.append("ETA estimating…")
    if p.problems:
        parts.append(f"{p.problems} need you (Queue: awaiting approval or failed)")
    if p.resync.state == "cancelled":
        parts.append("cancelled")
    elif not p.resync.active:
        parts.append("done" if not p.problems else "the rest waits for you")
    return " · ".join(parts)


@dataclass(frozen=True)
class ResyncStatus:
    shop: str
    progress: ResyncProgress


def read_resyncs(engine: Engine, store: Store, now: float | None = None) -> list[ResyncStatus]:
    """Each shop's running resync, or the one that ended in the last ten minutes."""
    now = time.time() if now is None else now
    out = []
    for shop_id, ref in sorted(engine.shops.items(), key=lambda kv: kv[1].domain):
        progress = store_stock.resync_progress(store, shop_id, now)
        if progress is None:
            continue
        ended = progress.resync.finished_at
        if progress.resync.active or (ended is not None and now - ended < RECENT_SECONDS):
            out.append(ResyncStatus(ref.domain, progress))
    return out
