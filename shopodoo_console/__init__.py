"""shopodoo-console: keep Shopify and Odoo in sync, exactly once, from a terminal."""

__version__ = "0.1.0"
