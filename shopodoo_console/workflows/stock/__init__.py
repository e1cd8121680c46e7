"""The stock flow, Odoo → Shopify (issue 12): poll, match, plan, apply, link; and a resync."""
