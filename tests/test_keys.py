"""Job keys are deterministic and injective (DESIGN §3.1)."""

from hypothesis import given
from hypothesis import strategies as st

from shopodoo_console.engine.keys import job_key, key_after, parse_key, record_prefix

part = st.text(min_size=1, max_size=30)
version = st.text(max_size=30)


@given(part, part, part, version)
def test_same_inputs_same_key(shop: str, flow: str, source: str, ver: str) -> None:
    assert job_key(shop, flow, source, ver) == job_key(shop, flow, source, ver)


@given(part, part, part, version)
def test_key_round_trips(shop: str, flow: str, source: str, ver: str) -> None:
    assert tuple(parse_key(job_key(shop, flow, source, ver))) == (shop, flow, source, ver)


@given(st.tuples(part, part, part, version), st.tuples(part, part, part, version))
def test_different_inputs_never_collide(a: tuple, b: tuple) -> None:
    assert (job_key(*a) == job_key(*b)) == (a == b)


@given(st.lists(st.text(alphabet=":%3Aab", max_size=6), min_size=8, max_size=8))
def test_separators_and_escapes_inside_parts_never_collide(parts: list[str]) -> None:
    a = ("s" + parts[0], "f" + parts[1], "r" + parts[2], parts[3])
    b = ("s" + parts[4], "f" + parts[5], "r" + parts[6], parts[7])
    assert (job_key(*a) == job_key(*b)) == (a == b)


def test_shifting_a_separator_between_parts_changes_the_key() -> None:
    assert job_key("s", "f", "a:b", "c") != job_key("s", "f", "a", "b:c")


def test_real_shopify_gid_key_is_readable() -> None:
    key = job_key(
        "acme.myshopify.com", "orders", "gid://shopify/Order/1042", "2026-11-27T10:00:00Z"
    )
    assert key.startswith("acme.myshopify.com:orders:gid%3A//shopify/Order/1042:")


@given(part, part, part, version)
def test_a_page_prefix_gives_the_same_key(shop: str, flow: str, source: str, ver: str) -> None:
    """The poller computes ``shop:flow:`` once per page; the key must be the same."""
    assert key_after(record_prefix(shop, flow), source, ver) == job_key(shop, flow, source, ver)


@given(part, part, part, version, part)
def test_a_record_prefix_starts_only_its_own_keys(
    shop: str, flow: str, source: str, ver: str, other: str
) -> None:
    """The supersede lookup finds a record's versions by key prefix: never another's."""
    prefix = key_after(record_prefix(shop, flow), source, "")
    key = job_key(shop, flow, other, ver)
    assert key.startswith(prefix) == (other == source)
