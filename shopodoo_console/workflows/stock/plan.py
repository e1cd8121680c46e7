"""The plan stage of the stock flow: pure, from what both systems hold now.

Per mapped Shopify location: the quantity to publish is the Odoo quantity of the mapped
locations (free — on hand minus reserved — or on hand, as the shop says), less the safety
buffer, in whole units, never below zero. A level that already shows it is not written; one
that does not gets a ``set_quantity`` whose ``change_from`` is the ``available`` just read
(compare-and-set: a sale in between makes Shopify refuse it, nothing is overwritten blindly)
and whose key names the job, the location and the quantity read — so a re-read after a stale
answer makes a new plan with a new key, and an approval covers exactly what it showed.

A sale in Shopify between the read and the write is not undone either: when the re-read finds
fewer units than were read, those units were sold and Odoo has not seen the order yet, so they
are held back from the quantity published (the order reaches Odoo and the next change
publishes the same number).

What is left alone is said, never silently dropped: an untracked item, an archived product, a
location not mapped, an item not stocked where activation is off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shopodoo_console.odoo.stock import StockQuantity
from shopodoo_console.shopify.inventory import ItemInventory
from shopodoo_console.store.stock import SkipNote
from shopodoo_console.workflows.pipeline import Action, Guard, Plan
from shopodoo_console.workflows.stock.locations import MappedLocation
from shopodoo_console.workflows.stock.settings import StockSettings

SET = "set_quantity"
ACTIVATE = "activate"
UNTRACKED = "Shopify does not track this item's inventory"
ARCHIVED = "the product is archived in Shopify"
NOT_STOCKED = "not stocked at this location in Shopify, and stock_activate is off"
UNMAPPED = "not mapped to an Odoo location: levels here are left as they are"


@dataclass(frozen=True)
class StockFacts:
    """What the plan is made from, read fresh by the earlier stages."""

    job_key: str
    record: str
    title: str
    inventory: ItemInventory
    quantities: Mapping[str, StockQuantity]  # Odoo quantity per mapped Shopify location
    mapped: Mapping[str, MappedLocation]
    names: Mapping[str, str]  # Shopify location names
    sellable: frozenset[str] = frozenset()  # active locations (an inactive one sells nothing)
    sold: Mapping[str, int] = field(default_factory=dict)  # units sold in Shopify since read


def set_key(job_key: str, location: str, change_from: int, quantity: int) -> str:
    return f"{job_key}|{location}|{change_from}>{quantity}"


def plan_levels(facts: StockFacts, settings: StockSettings) -> tuple[Plan, list[SkipNote]]:
    """The plan for one product's levels, and what it leaves alone (with the reason)."""
    item = facts.inventory
    variant = item.variant_id or item.item_id
    if not item.tracked:
        return Plan.skipped(facts.record, f"Left alone: {UNTRACKED}"), [
            SkipNote("variant", variant, facts.title, UNTRACKED)
        ]
    if item.product_status == "ARCHIVED":
        return Plan.skipped(facts.record, f"Left alone: {ARCHIVED}"), [
            SkipNote("variant", variant, facts.title, ARCHIVED)
        ]
    notes = [
        SkipNote("location", loc, facts.names.get(loc, loc), UNMAPPED, loc)
        for loc in sorted(item.levels)
        if loc not in facts.mapped and (loc in facts.sellable or not facts.sellable)
    ]
    if not facts.mapped:
        return Plan.skipped(facts.record, "No Shopify location is mapped to Odoo yet"), notes
    actions: list[Action] = []
    details: list[str] = []
    in_step: list[str] = []
    ordered = sorted(facts.mapped, key=lambda loc: (facts.names.get(loc, loc), loc))
    for location in ordered:
        name = facts.names.get(location, location)
        quantity = facts.quantities.get(location, StockQuantity())
        sold = facts.sold.get(location, 0)
        target = max(0, settings.publish(quantity.free, quantity.on_hand) - sold)
        why = _why(quantity, facts.mapped[location], settings)
        if sold:
            why += f", less {sold} sold in Shopify since it was read (Odoo has not seen it yet)"
        level = item.levels.get(location)
        if level is None:
            if settings.activate:
                actions.append(_activate(facts, location, name, target))
                details.append(f"{name}: not stocked yet — stock it with {target} ({why})")
            else:
                notes.append(
                    SkipNote(
                        "level", f"{variant}@{location}", f"{facts.title} at {name}", NOT_STOCKED
                    )
                )
                details.append(f"{name}: {NOT_STOCKED} — left alone")
            continue
        if level.available == target:
            in_step.append(f"{name} {target}")
            details.append(f"{name}: already {target} ({why})")
            continue
        actions.append(_set(facts, location, name, level.available, target))
        details.append(f"{name}: {level.available} → {target} ({why})")
    details += [f"{n.label}: {UNMAPPED}" for n in notes if n.kind == "location"]
    if not actions:
        shown = ", ".join(in_step) or "nothing to set"
        return Plan.skipped(
            facts.record, f"In step: {shown} (nothing written)", in_step=True
        ), notes
    summary = f"{facts.title}: " + ", ".join(a.summary for a in actions)
    return Plan.to_do(facts.record, actions, summary, details), notes


def _why(quantity: StockQuantity, mapped: MappedLocation, settings: StockSettings) -> str:
    if settings.quantity == "on_hand":
        text = f"on hand {quantity.on_hand:g} in {mapped.label}"
    else:
        text = (
            f"free {quantity.free:g} = on hand {quantity.on_hand:g} − reserved "
            f"{quantity.reserved:g} in {mapped.label}"
        )
    return text + (f", buffer {settings.buffer}" if settings.buffer else "")


def _set(facts: StockFacts, location: str, name: str, now: int, target: int) -> Action:
    return Action(
        SET,
        f"{name} {now} → {target}",
        Guard.IDEMPOTENCY_KEY,
        key=set_key(facts.job_key, location, now, target),
        data={
            "item": facts.inventory.item_id,
            "location": location,
            "quantity": target,
            "change_from": now,
        },
    )


def _activate(facts: StockFacts, location: str, name: str, target: int) -> Action:
    return Action(
        ACTIVATE,
        f"{name} stocked with {target}",
        Guard.IDEMPOTENCY_KEY,
        key=f"{facts.job_key}|{location}|activate>{target}",
        data={"item": facts.inventory.item_id, "location": location, "quantity": target},
    )
