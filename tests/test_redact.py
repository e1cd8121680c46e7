import logging

from shopodoo_console.redact import RedactingFilter, redact, register_secret


def test_registered_secret_is_masked() -> None:
    register_secret("s3cr3t-odoo-key-123")
    assert redact("key=s3cr3t-odoo-key-123 failed") == "key=*** failed"


def test_token_shapes_are_masked_even_unregistered() -> None:
    assert "shpat_" not in redact("token shpat_0123456789abcdef0123 rejected")


def test_logging_filter_masks_args_and_tracebacks(caplog) -> None:
    register_secret("another-secret-value")
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("using %s", "another-secret-value")
        try:
            raise RuntimeError("boom another-secret-value")
        except RuntimeError:
            logger.exception("failed")
    text = caplog.text
    assert "another-secret-value" not in text
    assert "***" in text
