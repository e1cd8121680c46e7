"""The command palette: every action that fits the current screen, titled "group: action".

One catalog feeds the footer, the help screen and the palette (Dolphie): the bindings
themselves. The provider lists the console's own bindings (those with an ``id``) active where
the palette was opened (focused widget, screen, app) and enabled there, so the palette never
offers an action that would do nothing, nor Textual's internals ("Cursor left", "Focus
Next"): the app keeps only Theme and Quit of Textual's system commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

HIDDEN_ACTIONS = {"command_palette", "quit", "help_quit"}


def palette_group(node: DOMNode) -> str:
    """The group a node's actions are listed under ("Failures", "Console", ...)."""
    return getattr(node, "PALETTE_GROUP", "") or "Console"


class ScreenActions(Provider):
    def _commands(self) -> Iterator[tuple[str, str, DOMNode, Binding]]:
        seen: set[tuple[str, str]] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or not binding.id:
                continue
            if binding.action in HIDDEN_ACTIONS:
                continue
            group = palette_group(active.node)
            title = f"{group}: {binding.description}"
            if (title, binding.action) in seen:
                continue
            seen.add((title, binding.action))
            yield (
                title,
                binding.tooltip or f"key {binding.key_display or binding.key}",
                (active.node),
                binding,
            )

    def _run(self, node: DOMNode, action: str) -> None:
        self.app.call_later(self.app.run_action, action, node)

    async def discover(self) -> Hits:
        for title, help_text, node, binding in sorted(self._commands(), key=lambda c: c[0]):
            yield DiscoveryHit(title, partial(self._run, node, binding.action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, node, binding in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self._run, node, binding.action),
                    help=help_text,
                )
