"""The stages every flow shares (DESIGN §7): poll → fetch → match → plan → apply → link.

The vocabulary lives here so the orders, stock and fulfillment flows speak it alike:

* :class:`Action` / :class:`Guard` / :class:`Effect` — what a plan says to do, how a retry of
  it stays safe, and what doing it did;
* :class:`Plan` / :class:`Skip` / :class:`Blocked` — per record: the actions, or a skip with
  its reason (not a failure), or every cause that blocks it;
* :class:`Item`, :func:`outcome`, :func:`review` — a batch's jobs through the stages, "done"
  only when every action took effect, review mode approved in bulk;
* :class:`LinkWriter` / :class:`Synced` — the one writer of links;
* :class:`StampedCreator` — Odoo creates with their stamp, batched, a lost race adopted.
"""

from shopodoo_console.workflows.pipeline.actions import Action, Effect, Guard
from shopodoo_console.workflows.pipeline.items import (
    Item,
    open_items,
    outcome,
    review,
    shop_config,
)
from shopodoo_console.workflows.pipeline.links import (
    Linked,
    LinkTarget,
    LinkWriter,
    Synced,
    synced_state,
)
from shopodoo_console.workflows.pipeline.plans import Blocked, Plan, Skip
from shopodoo_console.workflows.pipeline.stamped import Created, StampedCreator

__all__ = [
    "Action",
    "Blocked",
    "Created",
    "Effect",
    "Guard",
    "Item",
    "LinkTarget",
    "LinkWriter",
    "Linked",
    "Plan",
    "Skip",
    "StampedCreator",
    "Synced",
    "open_items",
    "outcome",
    "review",
    "shop_config",
    "synced_state",
]
