"""How flows plug into the engine (DESIGN §7): the typed contract between the two.

A flow polls a source for changes (keys only) and handles claimed jobs in batches as
match → plan → apply → link, returning one :data:`Outcome` per job. The engine knows flows only
through this protocol and the registry; it never imports a workflow module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from shopodoo_console.causes import Cause

if TYPE_CHECKING:
    from shopodoo_console.config import ShopConfig


@dataclass(frozen=True)
class Change:
    """One sighting of a source record at one version: what becomes a job.

    ``version`` must sort chronologically as a string (an ISO ``updatedAt``, or
    ``updatedAt|digest``): when two versions of a record wait, the greater one wins.
    ``payload`` holds IDs only — workers fetch fresh data when they run (DESIGN §3.3).
    ``not_before`` (epoch seconds) holds the job back while its version may still change:
    Shopify's ``updatedAt`` has whole-second precision, so a job for version V must not fetch
    before V + 1 s plus a margin, or a second change within V's second is lost (DESIGN §3.7).
    """

    source_id: str
    version: str
    label: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    not_before: float | None = None


@dataclass(frozen=True)
class Page:
    """A page of changes and the cursor position to store once they are stored."""

    changes: list[Change]
    cursor: str | None


@dataclass(frozen=True)
class ShopRef:
    """What a flow needs to know about the shop it works for."""

    id: int
    domain: str
    config: ShopConfig | None = None


@dataclass(frozen=True)
class Done:
    message: str = ""
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class Skipped:
    """Not a failure: "unchanged since last sync", "already in Odoo as S00042"."""

    reason: str
    cause: Cause | None = None  # a conflict explained (e.g. conflict.order_locked)


@dataclass(frozen=True)
class AwaitApproval:
    """Review mode: stop with the plan and wait for the operator."""

    plan: dict[str, Any]
    summary: str = ""


@dataclass(frozen=True)
class Failed:
    """The one way a flow reports that a job failed: with its cause (DESIGN §6).

    A flow returns it; it never raises for a job's failure. An exception escaping a flow is a
    bug and is recorded as ``engine.handler_crashed``.
    """

    cause: Cause


Outcome = Done | Skipped | AwaitApproval | Failed


class Claim(NamedTuple):
    """One claim of one job: the fencing token every later statement about it must match.

    Each claim increments the job's attempt number and takes it as its token, so a stale
    execution (a laptop that slept past its lease, a worker whose lease was taken over) holds
    an older token and can never heartbeat, record an intent, finish or release a newer claim
    of the same job (DESIGN §3.5).
    """

    job_id: int
    token: int
    owner: str


@dataclass
class JobView:
    """The claimed job as a handler sees it (a snapshot; the row is the truth).

    ``attempts`` is this claim's attempt number, which is also its fencing token.
    """

    id: int
    key: str
    shop_id: int
    flow: str
    source_id: str
    source_version: str
    label: str
    payload: dict[str, Any]
    attempts: int
    retries: int
    intent: dict[str, Any] | None
    plan: dict[str, Any] | None
    approved: bool
    owner: str = ""
    retry_counts: dict[str, int] = field(default_factory=dict)
    retrying_since: float | None = None
    claim: Claim = field(init=False, repr=False, compare=False)  # this claim's fencing token

    def __post_init__(self) -> None:
        self.claim = Claim(self.id, self.attempts, self.owner)


class JobContext(Protocol):
    """What the engine offers a handler while it runs a job."""

    job: JobView
    shop: ShopRef

    def audit(self, system: str, event: str, message: str, **data: Any) -> None: ...

    def record_intent(self, intent: dict[str, Any]) -> None:
        """Write what we are about to do remotely, before doing it (DESIGN §3.5)."""

    def heartbeat(self) -> bool:
        """Extend the lease during long work; False means the job was taken from us."""
        ...


@runtime_checkable
class Flow(Protocol):
    """A flow as the engine runs it.

    ``stream`` names the cursor its polls advance (flows sharing a source may share one);
    ``batch_size`` is how many claimed jobs of one shop it takes at once (1: one at a time).
    ``handle_batch`` returns exactly one outcome per context, in order; a failed job is
    ``Failed(cause)``, never an exception — anything raised is a bug, recorded on every job of
    the batch as ``engine.handler_crashed``. ``close`` releases what the flow holds open
    (HTTP clients); it reopens on next use.
    """

    name: str
    stream: str
    batch_size: int

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]: ...

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]: ...

    def close(self) -> None: ...


class FlowRegistry:
    """The flows this engine runs, by name."""

    def __init__(self, flows: Iterable[Flow] = ()) -> None:
        self._flows: dict[str, Flow] = {}
        for flow in flows:
            self.register(flow)

    def register(self, flow: Flow) -> None:
        if flow.name in self._flows:
            raise ValueError(f"flow {flow.name!r} is already registered")
        self._flows[flow.name] = flow

    def get(self, name: str) -> Flow | None:
        return self._flows.get(name)

    def names(self) -> list[str]:
        return sorted(self._flows)

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._flows.values())


FlowFactory = Callable[[], Flow]
