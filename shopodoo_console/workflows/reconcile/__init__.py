"""Reconciliation tools for the first month: the audit (Shopify orders against Odoo's sale
orders) and the backfill (orders older than the poll cursor, through the same job keys)."""
