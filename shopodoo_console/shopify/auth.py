"""The two ways a shop lets the console in (shopify.md §1.1).

Both register their secrets with :mod:`shopodoo_console.redact` the moment they hold them and
never show them in ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..redact import register_secret


@dataclass(frozen=True)
class StaticToken:
    """A legacy admin-created app's Admin API token: static, never expires."""

    token: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.token or not self.token.strip():
            raise ValueError("the Shopify access token is empty")
        register_secret(self.token)

    def __repr__(self) -> str:
        return "StaticToken(token=***)"


@dataclass(frozen=True)
class ClientCredentials:
    """A Dev Dashboard app's client id + secret, exchanged for a ~24 h token.

    ``margin`` is how long before expiry the token is renewed (OCA uses 60 s); for very short
    lifetimes (tests) at most a tenth of the lifetime is used.
    """

    client_id: str
    client_secret: str = field(repr=False)
    margin: float = 60.0

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ValueError("both the client id and the client secret are needed")
        register_secret(self.client_secret)

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret=***)"


Auth = StaticToken | ClientCredentials
