from shopodoo_console.causes import CATALOG, Cause, CauseError, Kind


def test_cause_defaults_come_from_catalog() -> None:
    cause = Cause(code="mapping.product_missing", missing="SKU 'MUG-RED' has no Odoo product")
    assert cause.kind is Kind.CONFIGURATION
    assert cause.retry_safe is True
    assert "Mappings" in cause.fix


def test_cause_round_trips_through_json() -> None:
    cause = Cause(
        code="shopify.throttled",
        missing="bucket empty",
        retry_after=2.5,
        blocked_on=("product:A",),
        record="Shopify order #1",
    )
    again = Cause.from_json(cause.to_json())
    assert again == cause
    assert again.kind is Kind.TEMPORARY


def test_explain_gives_the_four_answers() -> None:
    text = Cause(
        code="odoo.company_access",
        missing="no access to company 2",
        record="Shopify order #1042",
        retry_note="nothing was created in Odoo",
    ).explain()
    assert text.splitlines()[:4] == [
        "Which record: Shopify order #1042",
        "What is missing: no access to company 2",
        "Temporary or configuration: permission — needs an access right before retry",
        "Retry safe after the fix: yes — nothing was created in Odoo",
    ]


def test_only_temporary_causes_retry_automatically() -> None:
    for spec in CATALOG.values():
        if spec.max_retries:
            assert spec.kind is Kind.TEMPORARY, spec.code


def test_cause_error_carries_the_cause() -> None:
    cause = Cause(code="odoo.unreachable", missing="connection refused")
    err = CauseError(cause)
    assert err.cause is cause
    assert "odoo.unreachable" in str(err)
