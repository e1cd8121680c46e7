"""After a fix: the jobs that waited on a credential or a shop option go back to the queue.

A mapping save re-queues the jobs blocked on it (engine.mappings); this does the same for
what is fixed in Settings or with ``shopodoo connect``: a credential stored again re-queues
the jobs stopped by "credentials rejected" (for that shop, or every shop for Odoo), and an
option saved re-queues the jobs whose cause that option answers (``shop_options``).
"""

from __future__ import annotations

from collections.abc import Iterable

from shopodoo_console.engine.queue import Queue
from shopodoo_console.shop_options import OPTIONS_BY_KEY

CREDENTIAL_CAUSES = {
    "odoo": ("odoo.access_denied",),
    "shopify": ("shopify.unauthorized",),
}


def connection_name(secret_name: str) -> str:
    """The Settings row of a keyring entry: ``odoo`` or ``shopify:DOMAIN``."""
    return "odoo" if secret_name.startswith("odoo:") else secret_name


def requeue_for_credential(queue: Queue, connection: str) -> list[int]:
    """Queue again what waited on the credential of ``connection`` (``odoo`` or
    ``shopify:DOMAIN``); returns the job ids."""
    if connection == "odoo":
        return _retry(queue, CREDENTIAL_CAUSES["odoo"], None)
    domain = connection.removeprefix("shopify:")
    shop_id = queue.store.shop_id(domain)
    if shop_id is None:
        return []
    return _retry(queue, CREDENTIAL_CAUSES["shopify"], shop_id)


def requeue_for_options(queue: Queue, domain: str, keys: Iterable[str]) -> list[int]:
    """Queue again the shop's jobs whose cause the options ``keys`` answer."""
    shop_id = queue.store.shop_id(domain)
    if shop_id is None:
        return []
    codes = [code for key in keys if key in OPTIONS_BY_KEY for code in OPTIONS_BY_KEY[key].causes]
    return _retry(queue, codes, shop_id)


def _retry(queue: Queue, codes: Iterable[str], shop_id: int | None) -> list[int]:
    moved: list[int] = []
    for code in dict.fromkeys(codes):
        moved += queue.retry_where(cause_code=code, shop_id=shop_id)
    return moved
