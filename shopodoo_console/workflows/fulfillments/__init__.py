"""The fulfillments flow: a delivery done in Odoo becomes a Shopify fulfillment, once."""
