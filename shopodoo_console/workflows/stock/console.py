"""What the console asks the stock flow for, backed by the real clients (worker threads).

* ``stock_locations(shop)`` — the shop's Shopify locations with the Odoo stock locations
  suggested for each (by address, then name): one Shopify read and three Odoo calls, kept a
  minute (the Mappings screen reloads often; locations rarely change);
* ``resync(shop)`` — start (or take up) the shop's resync and list its variants; the running
  engine's workers run the jobs and the Dashboard follows the progress.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from shopodoo_console.causes import CauseError
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.stock.locations import (
    LocationSuggestion,
    ShopLocation,
    suggest_locations,
)
from shopodoo_console.workflows.stock.resync import Resync

if TYPE_CHECKING:
    from shopodoo_console.engine.core import Engine

CACHE_SECONDS = 60.0
Located = list[tuple[ShopLocation, list[LocationSuggestion]]]


def stock_hooks(engine: Engine, connections: Connections) -> dict[str, Any]:
    """``stock_locations`` answers with the flow's own types; the launcher turns them into
    what the console shows (the workflows know nothing of the console)."""
    cache: dict[str, tuple[float, Located]] = {}
    lock = threading.Lock()

    def stock_locations(shop: str) -> Located:
        with lock:
            hit = cache.get(shop)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            config = connections.config.shop(shop)
            nodes = connections.shopify(config).locations(
                include_inactive=True, include_legacy=True
            )
            layout = connections.odoo().stock_layout()
            found: Located = []
            for node in nodes:
                loc = ShopLocation.parse(node)
                found.append((loc, suggest_locations(loc, layout, config.odoo_company_id, 3)))
            cache[shop] = (time.monotonic() + CACHE_SECONDS, found)
            return found

    def resync(shop: str) -> str:
        ref = next((r for r in engine.shops.values() if r.domain == shop), None)
        if ref is None or ref.config is None:
            return f"{shop} is not a configured shop."
        if ref.config.mode("stock") == "off":
            return f"The stock flow is off for {shop}: turn it on (Settings) before a resync."
        try:
            job = Resync(
                engine.store,
                engine.queue,
                ref,
                connections.shopify(ref.config),
                connections.odoo(),
                company_id=ref.config.odoo_company_id,
            )
            row, new = job.start()
            row = job.list_variants()
        except CauseError as exc:
            return f"The stock resync of {shop} stopped: {exc.cause.missing}"
        how = "started" if new else "taken up"
        return (
            f"Stock resync of {shop} {how}: {row.variants} variants listed, {row.jobs} "
            "products queued — the Dashboard shows the progress."
        )

    return {"stock_locations": stock_locations, "resync": resync}
