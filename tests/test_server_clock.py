"""Shopify's clock as this machine sees it: the estimate errs late, never early.

A job for version V is held back until V + 1 s plus a margin on Shopify's clock (issue 10
case 2); a laptop whose clock is off must not let it run early.
"""

from __future__ import annotations

import email.utils

from hypothesis import given
from hypothesis import strategies as st

from shopodoo_console.shopify.client import ServerClock


@given(
    skew=st.floats(min_value=-600, max_value=600),
    answers=st.lists(
        st.tuples(
            st.floats(min_value=1.7e9, max_value=1.8e9),  # Shopify's time when it answered
            st.floats(min_value=0.0, max_value=2.0),  # transit time
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_the_offset_estimate_is_never_below_the_true_skew(skew: float, answers: list) -> None:
    clock = ServerClock()
    for server_time, transit in answers:
        header = email.utils.formatdate(server_time, usegmt=True)  # whole seconds, like Shopify
        clock.sample(header, server_time + transit + skew)
    offset = clock.offset()
    assert offset is not None
    assert offset >= skew - 1e-6  # late, never early
    assert offset <= skew + 1 + max(t for _, t in answers) + 1e-6


def test_no_answer_yet_and_a_malformed_date_give_no_estimate() -> None:
    clock = ServerClock()
    clock.sample(None, 1.0)
    clock.sample("not a date", 1.0)
    assert clock.offset() is None
