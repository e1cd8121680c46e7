"""No token or client secret in any log line, exception, cause, repr or event."""

from __future__ import annotations

import logging
import secrets

import pytest
from shopify_support import client_for, scenario

from shopodoo_console.causes import CauseError
from shopodoo_console.shopify import ClientCredentials, StaticToken
from shopodoo_console.sim.shopify import ShopifySimulator


def test_no_secret_leaks_anywhere(caplog):
    caplog.set_level(logging.DEBUG)
    static = "shpat_" + secrets.token_hex(16)
    client_secret = "shpss_" + secrets.token_hex(16)
    wrong_static = "tok-" + secrets.token_hex(12)  # not token-shaped: only registration masks it
    texts: list[str] = []
    events: list[tuple[str, dict]] = []
    with ShopifySimulator(
        scenario(), static_token=static, client_secret=client_secret, bucket=(2000, 1000.0)
    ) as sim:
        cc = ClientCredentials(sim.client_id, client_secret)
        wrong = ClientCredentials(sim.client_id, "sec-" + secrets.token_hex(12))
        attempts = [
            (StaticToken(static), lambda c: c.locations()),
            (StaticToken(wrong_static), lambda c: c.locations()),
            (cc, lambda c: c.locations()),
            (wrong, lambda c: c.locations()),
        ]
        sim.faults.add(action="status", status=503, times=None, operation="AccessScopes")
        sim.faults.add(action="drop_after_apply", field="fulfillmentCreate", times=None)
        for auth, call in attempts:
            with client_for(sim, auth, on_event=lambda n, d: events.append((n, d))) as client:
                texts += [repr(auth), repr(client), str(auth)]
                for operation in (
                    call,
                    lambda c: c.access_scopes(),
                    lambda c: c.fulfillment_create([{"fulfillmentOrderId": "x"}]),
                ):
                    try:
                        operation(client)
                    except CauseError as exc:
                        texts += [str(exc), repr(exc), exc.cause.to_json(), exc.cause.explain()]
                issued = client._token
        secrets_seen = [static, client_secret, wrong_static, wrong.client_secret]
        if issued:
            secrets_seen.append(issued)
    texts += [caplog.text, repr(events)]
    blob = "\n".join(texts)
    assert "shopify.unauthorized" in blob and "shopify.outcome_unknown" in blob
    for secret in secrets_seen:
        assert secret not in blob


def test_empty_credentials_are_refused():
    with pytest.raises(ValueError):
        StaticToken(" ")
    with pytest.raises(ValueError):
        ClientCredentials("id", "")
