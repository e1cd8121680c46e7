"""Properties of the stock flow's pure parts: plans, keys, versions, what is published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shopodoo_console.engine.flows import JobView
from shopodoo_console.odoo.stock import StockQuantity
from shopodoo_console.shopify.inventory import ItemInventory, Level
from shopodoo_console.workflows.stock.apply import send_key
from shopodoo_console.workflows.stock.jobs import StockJob
from shopodoo_console.workflows.stock.locations import MappedLocation
from shopodoo_console.workflows.stock.plan import (
    ACTIVATE,
    SET,
    StockFacts,
    plan_levels,
    set_key,
)
from shopodoo_console.workflows.stock.poll import _Sighting
from shopodoo_console.workflows.stock.settings import StockSettings

LOCATIONS = [f"gid://shopify/Location/{n}" for n in range(1, 5)]
quantities = st.floats(min_value=-5, max_value=500, allow_nan=False).map(lambda f: round(f, 2))
settings_strategy = st.builds(
    StockSettings,
    quantity=st.sampled_from(["free", "on_hand"]),
    buffer=st.integers(0, 10),
    activate=st.booleans(),
)


@st.composite
def facts(draw: Any) -> StockFacts:
    mapped = draw(st.lists(st.sampled_from(LOCATIONS), unique=True, max_size=4))
    stocked = draw(st.lists(st.sampled_from(LOCATIONS), unique=True, max_size=4))
    levels = {
        loc: Level(loc, draw(st.integers(-3, 400)), 0, 0, True, f"level-{loc}") for loc in stocked
    }
    odoo = {
        loc: StockQuantity(on_hand=(h := draw(quantities)), reserved=min(h, draw(quantities)))
        for loc in mapped
    }
    return StockFacts(
        job_key=draw(st.sampled_from(["s:stock:product/1:v1", "s:stock:product/1:v2"])),
        record="Odoo product 1",
        title="Mug",
        inventory=ItemInventory(
            "gid://shopify/InventoryItem/1",
            "MUG",
            draw(st.booleans()),
            levels,
            "gid://shopify/ProductVariant/1",
            product_status=draw(st.sampled_from(["ACTIVE", "DRAFT", "ARCHIVED"])),
        ),
        quantities=odoo,
        mapped={loc: MappedLocation(loc, 10 + i, f"WH{i}/Stock") for i, loc in enumerate(mapped)},
        names={loc: f"Location {loc[-1]}" for loc in LOCATIONS},
        sold=draw(st.dictionaries(st.sampled_from(LOCATIONS), st.integers(0, 5), max_size=2)),
    )


@settings(max_examples=300, deadline=None)
@given(facts(), settings_strategy)
def test_a_plan_writes_only_what_differs_never_below_zero_never_blind(
    f: StockFacts, s: StockSettings
) -> None:
    plan, notes = plan_levels(f, s)
    item = f.inventory
    if not item.tracked or item.product_status == "ARCHIVED":
        assert plan.skip is not None and not plan.actions
        assert [n.kind for n in notes] == ["variant"]
        return
    keys = [a.key for a in plan.actions]
    assert len(keys) == len(set(keys))
    for action in plan.actions:
        location = action.data["location"]
        assert location in f.mapped  # an unmapped location is never written
        quantity = f.quantities[location]
        want = max(0, s.publish(quantity.free, quantity.on_hand) - f.sold.get(location, 0))
        assert action.data["quantity"] == want >= 0
        level = item.levels.get(location)
        if action.kind == SET:
            assert level is not None
            assert action.data["change_from"] == level.available  # compare-and-set
            assert level.available != want  # a level already right is not written
            assert action.key == set_key(f.job_key, location, level.available, want)
        else:
            assert action.kind == ACTIVATE and level is None and s.activate
    for location in f.mapped:
        if location not in item.levels and not s.activate:
            assert any(n.kind == "level" and n.subject.endswith(location) for n in notes)
    for location in item.levels:
        if location not in f.mapped:
            assert any(n.kind == "location" and n.subject == location for n in notes)
    if not plan.actions and f.mapped:
        assert plan.skip is not None
    again, _ = plan_levels(f, s)
    assert again.to_review()["approval"] == plan.to_review()["approval"]  # pure


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-100, max_value=10_000, allow_nan=False),
    st.floats(min_value=0, max_value=10_000, allow_nan=False),
    settings_strategy,
)
def test_what_is_published_is_whole_units_less_the_buffer_never_negative(
    free: float, on_hand: float, s: StockSettings
) -> None:
    published = s.publish(free, on_hand)
    basis = on_hand if s.quantity == "on_hand" else free
    assert isinstance(published, int) and published >= 0
    assert published <= max(0, basis)
    assert published == max(0, int(basis // 1) - s.buffer)


@dataclass
class _Ctx:
    job: JobView
    shop: Any = None
    audits: list[str] = field(default_factory=list)

    def audit(self, system: str, event: str, message: str, **data: Any) -> None:
        self.audits.append(message)

    def record_intent(self, intent: dict[str, Any]) -> None:
        self.job.intent = intent

    def heartbeat(self) -> bool:
        return True


def _job(key: str, attempts: int) -> StockJob:
    view = JobView(1, key, 1, "stock", "product/1", "v", "", {}, attempts, 0, None, None, False)
    return StockJob(_Ctx(view))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4, unique=True),
    st.integers(1, 5),
)
def test_a_call_key_names_the_jobs_their_attempt_and_every_quantity(
    keys: list[str], attempts: int
) -> None:
    from shopodoo_console.workflows.pipeline import Action

    jobs = [_job(k, attempts) for k in keys]
    actions = [Action(SET, k, key=f"{k}|loc|1>2") for k in keys]
    key = send_key("demo.myshopify.com", jobs, actions)
    assert key == send_key("demo.myshopify.com", jobs, actions)  # a retry derives it again
    assert key.startswith("shopodoo-stock-") and len(key) < 64
    assert key != send_key("demo.myshopify.com", [_job(k, attempts + 1) for k in keys], actions)
    other = [Action(SET, k, key=f"{k}|loc|1>3") for k in keys]
    assert key != send_key("demo.myshopify.com", jobs, other)  # another quantity, another key
    assert key != send_key("other.myshopify.com", jobs, actions)


records = st.tuples(
    st.sampled_from(["stock.quant", "stock.move"]),
    st.integers(1, 50),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)
stamps = st.sampled_from(
    ["2026-11-05 10:00:00", "2026-11-05 10:00:01", "2026-11-05 10:00:59", "2026-11-05 11:00:00"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(stamps, records), min_size=1, max_size=12), st.randoms())
def test_a_version_is_the_newest_write_date_and_a_digest_whatever_the_reading_order(
    rows: list[tuple[str, tuple[Any, ...]]], rnd: Any
) -> None:
    unique = list({(stamp, rec[:2]): (stamp, rec) for stamp, rec in rows}.values())
    a, b = _Sighting("p"), _Sighting("p")
    for stamp, rec in unique:
        a.add(stamp, rec)
    shuffled = list(unique)
    rnd.shuffle(shuffled)
    for stamp, rec in shuffled:
        b.add(stamp, rec)
    assert a.version() == b.version()  # pages read in another order: the same version
    newest = max(stamp for stamp, _ in unique)
    assert a.version().startswith(newest.replace(" ", "T") + "Z|")
    later = _Sighting("p")
    for stamp, rec in unique:
        later.add(stamp, rec)
    later.add("2026-11-05 12:00:00", ("stock.quant", 99, 1.0))
    assert later.version() > a.version()  # a later change sorts after: it supersedes
