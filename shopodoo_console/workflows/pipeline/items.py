"""A batch of jobs on its way through the stages, and how each job's outcome is decided.

Every job of a batch is an :class:`Item`; a stage that settles a job early (not found, blocked,
skipped, waiting for approval) gives it its outcome and later stages pass it by. At the end,
:func:`outcome` turns the plan and the effects into the engine's outcome — ``Done`` only when
every action of the plan has a done effect (DESIGN §5: "done" is true).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.config import ShopConfig
from shopodoo_console.engine.flows import (
    AwaitApproval,
    Done,
    Failed,
    JobContext,
    Outcome,
    ShopRef,
    Skipped,
)
from shopodoo_console.workflows.pipeline.actions import Action, Effect
from shopodoo_console.workflows.pipeline.plans import Plan


@dataclass
class Item:
    ctx: JobContext
    plan: Plan | None = None
    effects: list[Effect] = field(default_factory=list)
    ended: Outcome | None = None  # set by a stage that settles the job early

    @property
    def open(self) -> bool:
        return self.ended is None

    @property
    def label(self) -> str:
        return self.ctx.job.label

    def end(self, outcome: Outcome) -> None:
        if self.ended is None:
            self.ended = outcome

    def fail(self, cause: Cause) -> None:
        self.end(Failed(cause if cause.record else cause.with_record(self.label)))

    def wants(self, kind: str) -> Action | None:
        """The plan's action of this kind, if the job is still going and nothing failed."""
        if not self.open or self.plan is None or not self.going:
            return None
        return self.plan.action(kind)

    @property
    def going(self) -> bool:
        """No effect failed so far: later actions may still run."""
        return all(e.ok for e in self.effects)

    def record(self, effect: Effect) -> None:
        self.effects.append(effect)

    def effect(self, kind: str) -> Effect | None:
        return next((e for e in self.effects if e.action.kind == kind), None)

    @property
    def all_done(self) -> bool:
        """Every action of the plan took effect."""
        if self.plan is None:
            return False
        done = {id(e.action) for e in self.effects if e.ok}
        return all(id(a) in done for a in self.plan.actions)


ItemT = TypeVar("ItemT", bound=Item)


def open_items(items: Sequence[ItemT]) -> list[ItemT]:
    """The items no stage has settled yet: the next stage works on these."""
    return [item for item in items if item.open]


def shop_config(shop: ShopRef) -> ShopConfig:
    """The shop's config, or a cause: a shop dropped from the config while its jobs wait."""
    if shop.config is None:
        raise CauseError(
            Cause(
                code="engine.flow_unknown",
                record=shop.domain,
                missing=f"the shop {shop.domain} is not in the config",
            )
        )
    return shop.config


def outcome(item: Item, done_message: str = "", result: dict | None = None) -> Outcome:
    """The job's outcome from its plan and effects (or the outcome a stage gave it)."""
    if item.ended is not None:
        return item.ended
    plan = item.plan
    if plan is None:
        return Failed(_unfinished(item, "no plan was made"))
    if plan.blocked is not None:
        return Failed(plan.blocked.cause().with_record(plan.record or item.label))
    if plan.skip is not None:
        return Skipped(plan.skip.reason, plan.skip.cause)
    failed = next((e for e in item.effects if not e.ok), None)
    if failed is not None and failed.cause is not None:
        cause = failed.cause
        return Failed(cause if cause.record else cause.with_record(item.label))
    if not item.all_done:
        missing = [a.kind for a in plan.actions if item.effect(a.kind) is None]
        return Failed(_unfinished(item, "actions never applied: " + ", ".join(missing)))
    return Done(done_message or plan.summary, result)


def review(item: Item, mode: str) -> AwaitApproval | None:
    """Review mode: a plan that changes the target waits for approval, and runs only if the
    plan approved is the plan made now from fresh data (approved in bulk or one by one)."""
    plan = item.plan
    if mode != "review" or plan is None or not plan.actions or not plan.needs_review:
        return None
    job = item.ctx.job
    shown = plan.to_review()
    approved = job.plan if job.approved else None
    if approved is not None and approved.get("approval") == shown["approval"]:
        return None
    prefix = "Changed since approval: " if approved is not None else ""
    return AwaitApproval(shown, prefix + plan.summary)


def _unfinished(item: Item, why: str) -> Cause:
    return Cause(
        code="engine.handler_crashed",
        record=item.label,
        missing=f"the flow ended without finishing this job ({why})",
        retry_note="the retry checks links and stamps before doing anything",
    )
