"""An audit's findings for people: where each record opens, the ``--json`` shape, and the CSV
finance asked for (one row per finding, amounts as plain decimals)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shopodoo_console.store.reconcile import FindingRow, RunRow

JSON_VERSION = 1
CSV_COLUMNS = (
    "kind",
    "shopify_order",
    "shopify_id",
    "odoo_ids",
    "job_id",
    "job_state",
    "cause",
    "total_difference",
    "tax_difference",
    "shipping_difference",
    "discount_difference",
    "summary",
    "shopify_url",
    "odoo_urls",
)


def shopify_url(domain: str, gid: str | None) -> str | None:
    """The order in Shopify admin (``https://<shop>/admin/orders/<id>`` redirects there)."""
    if not gid:
        return None
    return f"https://{domain}/admin/orders/{gid.rsplit('/', 1)[-1]}"


def odoo_url(base: str | None, odoo_id: int, model: str = "sale.order") -> str | None:
    """The record's form in Odoo's web client (works on 16 to 19)."""
    if not base:
        return None
    return f"{base.rstrip('/')}/web#id={odoo_id}&model={model}&view_type=form"


def finding_json(row: FindingRow, domain: str, odoo_base: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "summary": row.summary,
        "shopify_id": row.shopify_id,
        "shopify_name": row.shopify_name,
        "odoo_ids": list(row.odoo_ids),
        "job_id": row.job_id,
        "detail": row.detail,
        "open": {
            "shopify": shopify_url(domain, row.shopify_id),
            "odoo": [odoo_url(odoo_base, i) for i in row.odoo_ids],
            "job": f"shopodoo jobs show {row.job_id}" if row.job_id else None,
        },
    }


def audit_json(
    run: RunRow,
    rows: Iterable[FindingRow],
    counts: dict[str, int],
    *,
    odoo_base: str | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "run": run.to_json(),
        "counts": counts,
        "findings": [finding_json(r, run.shop, odoo_base) for r in rows],
        **extra,
    }


def write_csv(path: Path, rows: Iterable[FindingRow], domain: str, odoo_base: str | None) -> int:
    """Write the findings to ``path`` (UTF-8 with a BOM, which spreadsheet programs read as
    UTF-8); returns how many rows were written."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            differences = row.detail.get("differences") or {}
            writer.writerow(
                (
                    row.kind,
                    row.shopify_name,
                    row.shopify_id or "",
                    " ".join(str(i) for i in row.odoo_ids),
                    row.job_id or "",
                    row.detail.get("job_state", ""),
                    row.detail.get("cause") or "",
                    differences.get("total", ""),
                    differences.get("tax", ""),
                    differences.get("shipping", ""),
                    differences.get("discount", ""),
                    row.summary,
                    shopify_url(domain, row.shopify_id) or "",
                    " ".join(u for i in row.odoo_ids if (u := odoo_url(odoo_base, i))),
                )
            )
            count += 1
    return count
