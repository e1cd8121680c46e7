"""Editing one shop option (``[shops.options]``), built from its entry in ``shop_options``.

A choice or a yes/no is a select, a number an integer field, an Odoo record an id field with
a picker that searches Odoo as you type (like the mapping editor's suggestions). Saving goes
through the one config writer (checked by the loader, comments kept) and re-queues the jobs
whose cause this option answers; an empty value removes the option, so its default applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from shopodoo_console.config import Config
from shopodoo_console.config_file import update_options
from shopodoo_console.engine.requeue import requeue_for_options
from shopodoo_console.shop_options import OptionSpec, value_problem
from shopodoo_console.ui.checks import Suggestion

if TYPE_CHECKING:
    from shopodoo_console.ui.app import ShopodooApp

DEFAULT = "__default__"


@dataclass(frozen=True)
class OptionSaved:
    config: Config
    shop: str
    spec: OptionSpec
    value: Any
    requeued: list[int]


class OptionEditor(ModalScreen[OptionSaved | None]):
    PALETTE_GROUP = "Option"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="option.cancel"),
        Binding("ctrl+s", "save", "Save", id="option.save", priority=True),
    ]

    def __init__(self, shop: str, spec: OptionSpec, current: Any) -> None:
        super().__init__()
        self.shop = shop
        self.spec = spec
        self.current = current
        self.saving = False

    @property
    def console_app(self) -> ShopodooApp:
        return cast("ShopodooApp", self.app)

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Vertical(classes="dialog", id="option-editor"):
            yield Label(f"{spec.label} · {self.shop}", classes="dialog-title", markup=False)
            yield Static(
                f"options.{spec.key}: {spec.help}. Saved to the shop's [shops.options] in "
                "config.toml (comments kept); empty means the default "
                f"({spec.describe(spec.default)}). Jobs waiting on it are queued again.",
                classes="dialog-help",
                markup=False,
            )
            if spec.kind in ("choice", "flag"):
                choices = spec.choices if spec.kind == "choice" else ("yes", "no")
                yield Select(
                    [(f"default ({spec.describe(spec.default)})", DEFAULT)]
                    + [(c, c) for c in choices],
                    value=self._choice_value(),
                    allow_blank=False,
                    compact=True,
                    id="option-value",
                )
            else:
                if spec.kind == "record":
                    yield Label(f"Search Odoo ({spec.model})", classes="field-label")
                    yield Input(
                        placeholder="a name, a reference…", compact=True, id="option-search"
                    )
                    yield OptionList(id="option-found", compact=True)
                yield Label(
                    "Odoo record id" if spec.kind == "record" else "Value", classes="field-label"
                )
                yield Input(
                    "" if self.current is None else str(self.current),
                    placeholder="empty: the default",
                    type="integer",
                    compact=True,
                    id="option-value",
                )
            yield Static("", id="option-message", classes="dialog-error")
            yield Static("ctrl+s or enter saves · escape cancels", classes="dialog-help")

    def _choice_value(self) -> str:
        if self.current is None:
            return DEFAULT
        if self.spec.kind == "flag":
            return "yes" if self.current else "no"
        return str(self.current)

    def on_mount(self) -> None:
        if self.spec.kind == "record":
            self.query_one("#option-found", OptionList).display = False
            self.query_one("#option-search", Input).focus()
            self._search("")
        else:
            self.query_one("#option-value").focus()

    # ------------------------------------------------------------ the Odoo picker

    @on(Input.Changed, "#option-search")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value.strip())

    @work(exclusive=True, group="option-search", thread=True)
    def _search(self, text: str) -> None:
        """In a thread (Odoo is remote); the newest query wins."""
        app = self.console_app
        try:
            found = app.record_search(self.shop, self.spec.model, text)
        except Exception as exc:  # the picker is a help: a failure is a line, not a crash
            app.call_from_thread(self._message, f"Could not search Odoo: {exc}")
            return
        app.call_from_thread(self._found, text, found)

    def _found(self, text: str, found: list[Suggestion]) -> None:
        if not self.is_attached:
            return
        options = self.query_one("#option-found", OptionList)
        options.clear_options()
        options.add_options([Option(f"{s.odoo_id}  {s.label}", id=str(s.odoo_id)) for s in found])
        options.display = bool(found)
        if found:
            options.highlighted = 0
            self._message("")
        elif text:
            self._message(f"Nothing in Odoo matches {text!r}.")

    @on(OptionList.OptionSelected, "#option-found")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#option-value", Input).value = event.option.id or ""
        self.query_one("#option-value", Input).focus()
        self._message(f"Picked {event.option.prompt}; enter saves.")

    # ------------------------------------------------------------ saving

    def _message(self, text: str) -> None:
        self.query_one("#option-message", Static).update(Text(text))

    def _value(self) -> tuple[Any, str]:
        """(value or None for the default, problem)."""
        if self.spec.kind in ("choice", "flag"):
            chosen = self.query_one("#option-value", Select).value
            if chosen == DEFAULT or not isinstance(chosen, str):
                return None, ""
            return (chosen == "yes" if self.spec.kind == "flag" else chosen), ""
        raw = self.query_one("#option-value", Input).value.strip()
        if not raw:
            return None, ""
        try:
            value = int(raw)
        except ValueError:
            return None, f"{raw!r} is not a whole number"
        return value, value_problem(self.spec, value)

    @on(Input.Submitted, "#option-value")
    def _submitted(self) -> None:
        self.action_save()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self.saving:
            return
        value, problem = self._value()
        if problem:
            self._message(f"Not saved: {problem}")
            return
        app = self.console_app
        shop, spec = self.shop, self.spec
        self.saving = True
        self._message("Checking and saving…")

        def work() -> OptionSaved:
            config = app.save_config(lambda path: update_options(path, shop, {spec.key: value}))
            requeued = requeue_for_options(app.engine.queue, shop, [spec.key])
            return OptionSaved(config, shop, spec, value, requeued)

        app.perform("Saving the option", work, self._saved, self._failed)

    def _failed(self, exc: Exception) -> None:
        self.saving = False
        if self.is_attached:
            self._message(f"Not saved: {exc}")

    def _saved(self, saved: OptionSaved) -> None:
        self.saving = False
        self.dismiss(saved)
