"""Small dialogs: a reason for resolve/cancel, and a yes/no confirmation."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class ReasonModal(ModalScreen[str | None]):
    """Ask why (resolve and cancel keep the reason in the job's timeline)."""

    PALETTE_GROUP = "Dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, title: str, prompt: str, *, suggestion: str = "") -> None:
        super().__init__()
        self._title = title
        self._prompt = prompt
        self._suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._prompt, classes="dialog-help")
            yield Input(value=self._suggestion, placeholder="reason (required)", id="reason")
            yield Static("", id="dialog-error", classes="dialog-error")
            yield Static("enter to confirm · escape to go back", classes="dialog-help")

    @on(Input.Submitted, "#reason")
    def submit(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.query_one("#dialog-error", Static).update("A reason is required.")
            return
        self.dismiss(reason)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    PALETTE_GROUP = "Dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self._question = question
        self._detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._question, classes="dialog-title", markup=False)
            if self._detail:
                yield Static(self._detail, classes="dialog-detail", markup=False)
            yield Static("y to confirm · n or escape to go back", classes="dialog-help")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
