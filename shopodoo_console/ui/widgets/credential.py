"""Entering a credential: typed once, masked, handed to the keyring, then forgotten.

The value never returns to the screen (the field is a password field and is cleared on
submit), is never written to a file, a log or the database, and is registered for redaction
so no message can echo it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class CredentialModal(ModalScreen[str | None]):
    """Returns the secret to store (or None); the caller stores it off the event loop."""

    PALETTE_GROUP = "Credential"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="credential.cancel")
    ]

    def __init__(self, title: str, what: str) -> None:
        super().__init__()
        self._title = title
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._what, classes="dialog-help")
            yield Input(password=True, placeholder="paste the secret here", id="secret")
            yield Static("", id="secret-error", classes="dialog-error")
            yield Static(
                "enter stores it in the OS keyring (never in a file) · escape cancels",
                classes="dialog-help",
            )

    @on(Input.Submitted, "#secret")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value
        event.input.clear()
        if not value.strip():
            self.query_one("#secret-error", Static).update("Nothing entered.")
            return
        self.dismiss(value)

    def action_close(self) -> None:
        self.query_one("#secret", Input).clear()
        self.dismiss(None)
