"""Where "jump to the fix" goes for a cause (pure: no Textual).

A mapping cause opens the mapping editor pre-filled with what the job is blocked on; a cause
a shop option answers (no guest contact, ...) opens that option's editor in Settings; a
credential or permission cause opens Settings on the connection that needs it; anything else
has no screen to fix it in, so the job's detail (with the four answers) is the best jump.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopodoo_console.causes import Cause
from shopodoo_console.shop_options import OPTIONS_BY_KEY, option_for_cause

MAPPING_CAUSES = {
    "mapping.product_missing": "product",
    "mapping.location_missing": "location",
    "mapping.gateway_missing": "gateway",
    "mapping.carrier_missing": "carrier",
    "mapping.tax_missing": "tax",
    # A delivery shipped from a warehouse Shopify did not assign the units to: map the
    # Shopify location to the warehouse that ships it (or move the fulfillment order).
    "fulfillment.split": "location",
    "fulfillment.other_location": "location",
}
SHOPIFY_SETTINGS_CAUSES = {"shopify.unauthorized", "shopify.scope_missing", "shopify.shop_frozen"}
ODOO_SETTINGS_CAUSES = {
    "odoo.access_denied",
    "odoo.permission_missing",
    "odoo.company_access",
}


@dataclass(frozen=True)
class Fix:
    """``where`` is ``mapping``, ``settings`` or ``job``; the rest says what to pre-fill."""

    where: str
    shop: str = ""
    kind: str = ""
    source_key: str = ""
    connection: str = ""  # "odoo" or "shopify:<domain>" for settings
    job_id: int | None = None
    option: str = ""  # a key of shop_options for "option"

    @property
    def describe(self) -> str:
        if self.where == "mapping":
            return f"map {self.kind} {self.source_key or '…'} in Mappings"
        if self.where == "option":
            label = OPTIONS_BY_KEY[self.option].label.lower()
            return f"set the shop's {label} (options.{self.option}) in Settings"
        if self.where == "settings":
            return f"check {self.connection or 'the shop'} in Settings"
        return "open the job's detail"


def fix_for(cause: Cause | None, *, shop: str, job_id: int | None = None) -> Fix:
    if cause is None:
        return Fix("job", shop=shop, job_id=job_id)
    if cause.code in MAPPING_CAUSES:
        kind = MAPPING_CAUSES[cause.code]
        key = ""
        for blocked in cause.blocked_on:
            blocked_kind, _, source = blocked.partition(":")
            if blocked_kind == kind:
                key = source
                break
        return Fix("mapping", shop=shop, kind=kind, source_key=key, job_id=job_id)
    option = option_for_cause(cause.code)
    if option is not None:  # a shop option answers it (guest contact, ...)
        return Fix("option", shop=shop, option=option.key, job_id=job_id)
    if cause.code in SHOPIFY_SETTINGS_CAUSES:
        return Fix("settings", shop=shop, connection=f"shopify:{shop}", job_id=job_id)
    if cause.code in ODOO_SETTINGS_CAUSES:
        return Fix("settings", shop=shop, connection="odoo", job_id=job_id)
    return Fix("job", shop=shop, job_id=job_id)
