"""The link writer: one statement per write, a conflict returns the winner (issue 10 case 4).

Before, links were saved check-then-insert: two batches that linked one Odoo contact to two
Shopify customers at once hit the unique index and the whole batch was recorded as a crash,
and a second worker's write could repoint a link someone had written first.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from support import SHOP, open_store

from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.pipeline import LinkTarget, LinkWriter, Synced


def test_the_odoo_side_taken_is_an_answer_not_an_integrity_error(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    shop = store.sync_shop(SHOP, api_version="2026-07")
    writer = LinkWriter(store)
    ann = writer.identity(LinkTarget(shop, "customer", "ann", "res.partner", 5, "Ann"))
    bob = writer.identity(LinkTarget(shop, "customer", "bob", "res.partner", 5, "Bob"))
    assert ann.ours and ann.odoo_id == 5
    assert bob.row is None and bob.taken_by is not None and bob.taken_by.shopify_id == "ann"
    store.close()


def test_a_record_linked_first_elsewhere_is_adopted_not_repointed(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    shop = store.sync_shop(SHOP, api_version="2026-07")
    writer = LinkWriter(store)
    first = writer.unsynced(LinkTarget(shop, "order", "o1", "sale.order", 7, "S7"), digest="d")
    second = writer.synced(
        LinkTarget(shop, "order", "o1", "sale.order", 8, "S8"), Synced("v2", "x")
    )
    assert first.ours and not second.ours
    assert second.row is not None and (second.row.odoo_id, second.row.label) == (7, "S7")
    assert second.row.last_version is None  # the winner's state is not touched either
    synced = writer.synced(LinkTarget(shop, "order", "o1", "sale.order", 7), Synced("v3", "y"))
    assert synced.ours and synced.row is not None
    assert Synced.parse(synced.row.last_version) == Synced("v3", "y")
    assert (synced.row.label, synced.row.digest) == ("S7", "d")  # kept when not given
    store.close()


def test_two_threads_linking_one_contact_never_raise(tmp_path: Path) -> None:
    """Many writers at once, each linking its own Shopify customer to the same contact."""
    store = Store(tmp_path / "shopodoo.db")
    shop = store.sync_shop(SHOP, api_version="2026-07")
    results: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(n: int) -> None:
        try:
            with store.thread_connection():
                start.wait(10)
                results.append(
                    LinkWriter(store).identity(
                        LinkTarget(shop, "customer", f"c{n}", "res.partner", 42)
                    )
                )
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    winners = [r for r in results if r.row is not None]  # type: ignore[attr-defined]
    assert len(winners) == 1 and len(results) == 8
    store.close()


writes = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2", "s3"]),  # Shopify record
        st.integers(min_value=1, max_value=3),  # Odoo record
        st.sampled_from(["unsynced", "synced", "identity"]),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(writes)
def test_links_stay_one_to_one_and_a_written_link_never_moves(sequence: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder))
        shop = store.sync_shop(SHOP, api_version="2026-07")
        writer = LinkWriter(store)
        first: dict[str, int] = {}
        for shopify_id, odoo_id, how in sequence:
            target = LinkTarget(shop, "order", shopify_id, "sale.order", odoo_id)
            if how == "unsynced":
                linked = writer.unsynced(target)
            elif how == "synced":
                linked = writer.synced(target, Synced("v", "d"))
            else:
                linked = writer.identity(target)
            taken = {o: s for s, o in first.items()}
            if shopify_id in first:  # linked before: the first link is the answer, unmoved
                assert linked.row is not None and linked.row.odoo_id == first[shopify_id]
                assert linked.ours == (odoo_id == first[shopify_id])
            elif odoo_id in taken:  # the Odoo record belongs to another Shopify record
                assert linked.row is None and linked.taken_by is not None
                assert linked.taken_by.shopify_id == taken[odoo_id]
            else:
                assert linked.ours
                first[shopify_id] = odoo_id
        rows = store.execute("SELECT shopify_id, odoo_id FROM link").fetchall()
        assert dict(rows) == first
        assert len({o for _, o in rows}) == len(rows)
        store.close()


def test_synced_state_round_trips() -> None:
    state = Synced("2026-11-20T12:00:05Z", "abc")
    assert Synced.parse(state.encode()) == state
    assert Synced.parse(None) is None and Synced.parse("a digest from before") is None
    assert links.KEEP is not None
