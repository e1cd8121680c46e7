"""What looks like markup is shown as written: `[odoo]`, `[[shops]]` and config keys such as
`shops[0].options.x` in Help, Settings dialogs and notifications; Help's routine is the
README's."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from rich.text import Text
from support import open_store
from ui_harness import loaded, make_app, press, shows, utc_timezone, wait_for
from ui_sample import NOW, SHOP, build_sample

from shopodoo_console.ui.screens.help import INTRO, HelpScreen
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.widgets.connection_editors import ShopEditor
from shopodoo_console.ui.widgets.option_editor import OptionEditor

README = Path(__file__).resolve().parents[1] / "README.md"


def test_help_routine_is_the_readmes() -> None:
    readme = " ".join(README.read_text(encoding="utf-8").split())
    match = re.search(r"in four keys — (.*?) — and watch", readme)
    assert match, "the README names the four keys"
    keys = re.findall(r"`([^`]+)`", match.group(1))
    assert keys == ["3", "f", "enter", "enter"]
    routine = " ".join(INTRO.split())
    assert "3 (Failures) → f (fix it" in routine
    assert "→ enter (take the suggestion) → enter (save)" in routine


def test_brackets_show_literally(tmp_path: Path, monkeypatch) -> None:
    from textual.app import App

    passed: list[str] = []
    real = App.notify

    def spy(self: App, message: str, **kwargs: Any) -> None:
        passed.append(message)  # what Textual will render as markup
        real(self, message, **kwargs)

    monkeypatch.setattr(App, "notify", spy)
    with utc_timezone():
        store = open_store(tmp_path)
        engine = build_sample(store)
        app = make_app(engine, store, engine.config, clock=lambda: NOW)

        async def go() -> None:
            async with app.run_test(size=(140, 60)) as pilot:
                await press(pilot, "question_mark")
                await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help")
                app.screen.query_one("#help").scroll_end(animate=False)
                await shows(app, "[odoo] in config.toml", "[[shops]] table")
                await press(pilot, "escape", "5")
                settings = await loaded(app, SettingsScreen)
                said = "config.toml: shops[0].options.guest_partner_id: expected [x] [b]"
                app.notify(said)
                assert Text.from_markup(passed[-1]).plain == said  # shown as written
                await press(pilot, "A")
                await wait_for(lambda: isinstance(app.screen, ShopEditor), what="shop editor")
                await shows(app, "as a new [[shops]] table")
                await press(pilot, "escape")
                await wait_for(lambda: app.screen is settings)
                settings.edit_option(SHOP, "guest_partner_id")
                await wait_for(lambda: isinstance(app.screen, OptionEditor), what="option")
                await shows(app, "[shops.options]")

        asyncio.run(go())
        store.close()
