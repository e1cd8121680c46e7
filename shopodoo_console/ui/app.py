"""The operations console: a Textual app over an injected engine (Harlequin style).

The app owns no business logic. It shows what the store holds, through screens that read in
worker threads, and turns keys into engine/queue calls that also run in worker threads.
Engine events arrive on engine threads and only mark the data dirty (or post a message):
the engine never waits for the UI, and the UI redraws at most 4 times a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rich.markup import escape
from textual import on
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from shopodoo_console import secrets
from shopodoo_console.config import Config, Paths
from shopodoo_console.engine import events as ev
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.requeue import requeue_for_credential
from shopodoo_console.store.db import Store
from shopodoo_console.ui.checks import (
    ConnectionTester,
    MappingSuggester,
    MappingValidator,
    RecordSearcher,
    accept_positive_ids,
    no_connection_test,
    no_record_search,
    no_suggestions,
)
from shopodoo_console.ui.commands import ScreenActions
from shopodoo_console.ui.fixes import Fix
from shopodoo_console.ui.live import LiveState
from shopodoo_console.ui.messages import DataChanged, OpenFix, OpenJob, SchedulerChanged
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.screens.help import HelpScreen
from shopodoo_console.ui.screens.job import JobScreen
from shopodoo_console.ui.screens.mappings import MappingsScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.screens.setup import SetupScreen, needs_setup
from shopodoo_console.ui.screens.tools import TOOL_MODES, Reconciler
from shopodoo_console.ui.stock import LocationLister, ResyncStarter, no_locations, no_resync
from shopodoo_console.ui.widgets.credential import CredentialModal
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor
from shopodoo_console.ui.widgets.modals import ReasonModal

log = logging.getLogger(__name__)
R = TypeVar("R")

ConfigSaved = Callable[[Config], None]
"""Makes the running engine use a config the settings screen just saved (worker thread)."""

SCHEDULER_LABELS = {
    "running": "scheduler running",
    "paused": "scheduler PAUSED",
    "stopped": "scheduler stopped",
    "read_only": "READ-ONLY: another console polls this database",
}


SCREENS = Binding.Group("screens", compact=True)


class ShopodooApp(App[int]):
    TITLE = "shopodoo"
    CSS_PATH = Path(__file__).with_name("shopodoo.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {ScreenActions}
    PALETTE_GROUP = "Console"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {  # type: ignore[assignment]
        "dashboard": DashboardScreen,
        "queue": QueueScreen,
        "failures": FailuresScreen,
        "mappings": MappingsScreen,
        "settings": SettingsScreen,
        **TOOL_MODES,
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('dashboard')", "Dashboard", id="go.dashboard", group=SCREENS),
        Binding("2", "show('queue')", "Queue", id="go.queue", group=SCREENS),
        Binding("3", "show('failures')", "Failures", id="go.failures", group=SCREENS),
        Binding("4", "show('mappings')", "Mappings", id="go.mappings", group=SCREENS),
        Binding("5", "show('settings')", "Settings", id="go.settings", group=SCREENS),
        Binding("6", "show('review')", "Review", id="go.review", group=SCREENS),
        Binding("7", "show('audit')", "Audit", id="go.audit", group=SCREENS),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("p", "toggle_pause", "Pause/resume", id="scheduler.toggle"),
        Binding("P", "poll_now", "Poll now", show=False, id="scheduler.poll_now"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        *,
        engine: Engine,
        store: Store,
        config: Config,
        paths: Paths,
        validator: MappingValidator = accept_positive_ids,
        tester: ConnectionTester = no_connection_test,
        suggester: MappingSuggester = no_suggestions,
        record_search: RecordSearcher = no_record_search,
        stock_locations: LocationLister = no_locations,
        resync: ResyncStarter = no_resync,
        on_config_saved: ConfigSaved | None = None,
        reconcile: Reconciler | None = None,
        clock: Callable[[], float] = time.time,
        refresh_hz: float = 4.0,
        live: LiveState | None = None,
        demo: bool = False,
    ) -> None:
        """``validator`` checks a mapping against Odoo and ``tester`` tests a connection;
        both run in worker threads. ``on_config_saved`` applies a config saved from Settings
        to the running engine (default: ``engine.apply_config``; the launcher also rebuilds
        the connections). ``clock`` gives "now" for ages shown on screen (tests and
        screenshots fix it). ``live`` keeps what engine events say between reads (given when
        it must hear the engine before the app exists); ``demo`` says the credentials are
        the simulators', held in memory."""
        super().__init__()
        self.engine = engine
        self.store = store
        self.config = config
        self.paths = paths
        self.validator = validator
        self.tester = tester
        self.suggester = suggester
        self.record_search = record_search
        self.stock_locations = stock_locations  # Shopify locations + suggestions (network)
        self.resync = resync  # starts a shop's stock resync (a worker thread)
        self.on_config_saved: ConfigSaved = on_config_saved or engine.apply_config
        self.reconcile = reconcile  # audits and backfills (None: not offered)
        self._config_lock = threading.Lock()
        self.clock = clock
        self.refresh_hz = min(refresh_hz, 4.0)
        self.shop_ids = {ref.domain: shop_id for shop_id, ref in engine.shops.items()}
        self._dirty = False
        self._unsubscribe: Callable[[], None] | None = None
        self.demo = demo
        self.live = live or LiveState(clock=clock)
        self._unsubscribe_live = (
            None if live is not None else engine.events.subscribe(self.live.on_event)
        )
        self._live_version = -1

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: config keys ("shops[0].options", "[odoo]") and
        remote messages must show as written, never be taken for Rich markup."""
        super().notify(
            escape(message), title=escape(title), severity=severity, timeout=timeout, markup=True
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Of Textual's own commands, only those an operator needs (no widget internals)."""
        for command in super().get_system_commands(screen):
            if command.title in ("Theme", "Quit"):
                yield command

    # ------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        self._unsubscribe = self.engine.events.subscribe(self._on_engine_event)
        self._show_scheduler(self.engine.state, self._holder())
        self.set_interval(1 / self.refresh_hz, self._tick, name="refresh")
        if needs_setup(self.config) and not self.demo:
            self.push_screen(SetupScreen())

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._unsubscribe_live is not None:
            self._unsubscribe_live()

    def _holder(self) -> str | None:
        return self.engine.holder.describe() if self.engine.holder else None

    def _on_engine_event(self, event: ev.Event) -> None:
        """Runs on an engine thread: mark dirty, never wait for the UI."""
        self._dirty = True
        if event.kind == ev.SCHEDULER:
            self.post_message(SchedulerChanged(event.data["state"], event.data.get("holder")))

    def _tick(self) -> None:
        if self.live.version != self._live_version:
            self._live_version = self.live.version
            self._show_scheduler(self.engine.state, self._holder())
        try:
            screen = self.screen
        except ScreenStackError:  # closing: the screens are gone before this timer
            return
        if not isinstance(screen, LiveScreen):
            return
        if self._dirty:
            self._dirty = False
            screen.request_reload()
        else:
            screen.pump()

    @on(SchedulerChanged)
    def _scheduler_changed(self, message: SchedulerChanged) -> None:
        self._show_scheduler(message.state, message.holder)
        with contextlib.suppress(ScreenStackError):  # the engine stopped as the app closed
            self.refresh_bindings()
        self.mark_dirty()

    def _show_scheduler(self, state: str, holder: str | None) -> None:
        label = SCHEDULER_LABELS.get(state, state)
        label = f"{label} ({holder})" if state == "read_only" and holder else label
        failing = self.live.poll_problems()
        if failing and state == "running":
            streams = ", ".join(
                f"{shop.removesuffix('.myshopify.com')} {stream}" for shop, stream in failing
            )
            label += f" · POLLING FAILING: {streams}"
        self.sub_title = label

    def mark_dirty(self) -> None:
        self._dirty = True

    @on(DataChanged)
    def _data_changed(self) -> None:
        self.mark_dirty()

    # ------------------------------------------------------------ running work off the loop

    def perform(
        self,
        description: str,
        work: Callable[[], R],
        on_done: Callable[[R], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run ``work`` in a thread (database or network); a failure becomes a notification
        (and ``on_error``), never a crash."""

        def run() -> None:
            try:
                with self.store.thread_connection():
                    result = work()
            except Exception as exc:
                log.exception("%s failed", description)
                self._from_thread(
                    self.notify, f"{description} failed: {exc}", severity="error", timeout=8
                )
                if on_error is not None:
                    self._from_thread(on_error, exc)
                return
            self._from_thread(self._performed, result, on_done)

        self.run_worker(run, thread=True, group="actions", exit_on_error=False, name=description)

    def _performed(self, result: Any, on_done: Callable[[Any], None] | None) -> None:
        self.mark_dirty()
        if on_done is not None:
            on_done(result)

    def _from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(callback, *args, **kwargs)

    # ------------------------------------------------------------ config.toml

    def save_config(self, change: Callable[[Path], Config]) -> Config:
        """Worker thread: write config.toml with ``change``, then apply the saved config to
        the running engine. One save at a time, so quick edits apply in the order written."""
        with self._config_lock:
            config = change(self.config.path)
            self.on_config_saved(config)
        return config

    def config_saved(self, config: Config) -> None:
        """Event loop: the console shows what was saved (and any shop just added)."""
        self.config = config
        self.shop_ids = {ref.domain: shop_id for shop_id, ref in self.engine.shops.items()}

    # ------------------------------------------------------------ credentials

    def credential_help(self, name: str) -> str:
        config = self.config
        if name == "odoo":
            odoo = config.odoo
            return (
                f"The API key of the Odoo user {odoo.login} ({odoo.url}, database {odoo.database})."
                if odoo
                else "The Odoo user's API key."
            )
        shop = next((s for s in config.shops if f"shopify:{s.domain}" == name), None)
        if shop is not None and shop.auth == "client_credentials":
            return f"The client secret of the Dev Dashboard app {shop.client_id}."
        return "The Admin API access token (shpat_…)."

    def ask_credential(
        self,
        name: str,
        title: str,
        secret_name: str,
        status: secrets.BackendStatus | None = None,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        """Ask for a credential (masked), store it in the keyring off the loop, rebuild the
        clients on it, re-queue what waited on it and poll again (Settings and first run)."""
        if status is not None and not status.usable:
            self.notify(status.explanation, title="No keyring", severity="error", timeout=12)
            return

        def store(value: str | None) -> None:
            if not value:
                return

            def store_and_apply() -> list[int]:
                secrets.set_secret(secret_name, value)
                self.save_config(lambda _path: self.config)  # rebuild clients on the new secret
                requeued = requeue_for_credential(self.engine.queue, name)
                self.engine.poll_now()  # polls that failed on the old credential, now
                return requeued

            def stored(requeued: list[int]) -> None:
                n = len(requeued)
                again = f" {n} job(s) waiting on it queued again." if n else ""
                self.live.note("", f"credential stored for {title}{again}", "good")
                self.notify(f"Stored in the keyring for {title}. It is not shown again.{again}")
                if on_stored is not None:
                    on_stored()

            self.perform("Storing the credential", store_and_apply, stored)

        help_text = self.credential_help(name)
        if status is not None and status.plaintext:
            help_text += f" Warning: {status.plaintext}."
        self.push_screen(CredentialModal(f"Credential for {title}", help_text), store)

    # ------------------------------------------------------------ navigation

    def action_show(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    async def show_failures(self, code: str | None = None) -> None:
        """Open Failures, with the group of ``code`` selected."""
        if self.current_mode != "failures":
            await self.switch_mode("failures")
        screen = self.screen
        if code and isinstance(screen, FailuresScreen):
            screen.select_group(code)

    async def show_queue(
        self, *, shop: str = "", flow: str = "", states: tuple[str, ...] = ()
    ) -> None:
        """Open Queue filtered to a shop/flow/states."""
        if self.current_mode != "queue":
            await self.switch_mode("queue")
        screen = self.screen
        if isinstance(screen, QueueScreen):
            screen.set_filter(shop=shop, flow=flow, states=states)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen())

    @on(OpenJob)
    def open_job(self, message: OpenJob) -> None:
        self.push_screen(JobScreen(message.job_id))

    @on(OpenFix)
    async def open_fix(self, message: OpenFix) -> None:
        fix: Fix = message.fix
        if fix.where == "mapping":
            self.edit_mapping(fix.shop, fix.kind, fix.source_key)
        elif fix.where in ("settings", "option"):
            if self.current_mode != "settings":
                await self.switch_mode("settings")
            screen = self.screen
            if isinstance(screen, SettingsScreen) and fix.where == "option":
                screen.edit_option(fix.shop, fix.option)
            elif isinstance(screen, SettingsScreen):
                screen.focus_connection(fix.connection)
        elif fix.job_id is not None:
            self.notify("No screen fixes this cause; the job's detail says what to do.")
            self.push_screen(JobScreen(fix.job_id))

    def edit_mapping(
        self,
        shop: str,
        kind: str,
        source_key: str = "",
        odoo_id: int | None = None,
        label: str = "",
    ) -> None:
        self.push_screen(
            MappingEditor(
                shops=sorted(self.shop_ids),
                shop=shop,
                kind=kind,
                source_key=source_key,
                odoo_id=odoo_id,
                label=label,
            )
        )

    # ------------------------------------------------------------ scheduler

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_pause":
            return self.engine.state in ("running", "paused")
        if action == "poll_now":
            return self.engine.state == "running"
        return True

    def action_toggle_pause(self) -> None:
        engine = self.engine
        if engine.state == "running":
            self.perform(
                "Pausing the scheduler",
                engine.pause,
                lambda _: self.notify(
                    "Scheduler paused: no polls, no jobs start. Press p to resume."
                ),
            )
        elif engine.state == "paused":
            self.perform(
                "Resuming the scheduler",
                engine.resume,
                lambda _: self.notify("Scheduler running again."),
            )
        else:
            self.notify(f"The scheduler is {engine.state}; nothing to pause here.")

    def action_poll_now(self) -> None:
        self.perform(
            "Polling now", self.engine.poll_now, lambda _: self.notify("Polling every stream now.")
        )

    # ------------------------------------------------------------ operator actions on jobs

    def retry_jobs(self, ids: Sequence[int], what: str = "") -> None:
        """Queue jobs again; ``what`` names them in the notification ("Job 42 (#1015)")."""
        ids = list(ids)
        if not ids:
            self.notify("No job selected.", severity="warning")
            return

        def done(moved: list[int]) -> None:
            if moved and what:
                self.notify(f"{what} queued again.")
            elif moved:
                self.notify(f"{len(moved)} job(s) queued again.")
            else:
                self.notify(
                    "Nothing to retry: the job is not failed, waiting or retrying.",
                    severity="warning",
                )

        self.perform("Retrying", lambda: self.engine.queue.retry(ids), done)

    def retry_cause(self, code: str) -> None:
        def done(moved: list[int]) -> None:
            self.notify(f"{len(moved)} job(s) with cause {code} queued again.")

        self.perform(
            "Retrying the group", lambda: self.engine.queue.retry_where(cause_code=code), done
        )

    def start_resync(self, shop: str) -> None:
        """Start (or take up) a shop's stock resync: its variants are listed in a worker
        thread; the engine's workers run the jobs; the Dashboard shows the bar and ETA."""
        self.notify(f"Stock resync of {shop}: listing the variants…", timeout=4)
        self.perform(
            f"The stock resync of {shop}",
            lambda: self.resync(shop),
            lambda message: self.notify(message, timeout=8),
        )

    def approve_jobs(self, ids: Sequence[int]) -> None:
        ids = list(ids)

        def done(moved: list[int]) -> None:
            self.notify(
                f"{len(moved)} plan(s) approved; the job runs now."
                if moved
                else "Nothing to approve: the job is not awaiting approval."
            )

        self.perform("Approving", lambda: self.engine.queue.approve(ids), done)

    def approve_all(self, ids_of: Callable[[], list[int]], what: str) -> None:
        """Approve every plan ``ids_of`` finds (run in a worker: it reads the database)."""

        def done(moved: list[int]) -> None:
            self.notify(
                f"{len(moved)} plan(s) approved ({what}); they run now."
                if moved
                else f"Nothing waits for approval ({what})."
            )

        self.perform("Approving", lambda: self.engine.queue.approve(ids_of()), done)

    def close_jobs(self, verb: str, ids_of: Callable[[], list[int]], what: str) -> None:
        """Resolve or cancel (``verb``) after asking for the reason kept in the timeline."""
        title = "Resolve" if verb == "resolve" else "Cancel"
        hint = (
            "Handled by hand (e.g. fixed directly in Odoo)."
            if verb == "resolve"
            else "The job will not run; nothing is changed remotely."
        )

        def with_reason(reason: str | None) -> None:
            if not reason:
                return

            def work() -> list[int]:
                ids = ids_of()
                move = self.engine.queue.resolve if verb == "resolve" else self.engine.queue.cancel
                return move(ids, reason=reason)

            self.perform(
                f"{title} {what}",
                work,
                lambda moved: self.notify(
                    f"{len(moved)} job(s) {'resolved' if verb == 'resolve' else 'cancelled'}: "
                    f"{reason}"
                ),
            )

        self.push_screen(ReasonModal(f"{title} {what}", hint), with_reason)


def run_console(
    engine: Engine,
    store: Store,
    config: Config,
    paths: Paths,
    *,
    validator: MappingValidator = accept_positive_ids,
    tester: ConnectionTester = no_connection_test,
    suggester: MappingSuggester = no_suggestions,
    record_search: RecordSearcher = no_record_search,
    stock_locations: LocationLister = no_locations,
    resync: ResyncStarter = no_resync,
    on_config_saved: ConfigSaved | None = None,
    reconcile: Reconciler | None = None,
    demo: bool = False,
) -> int:
    """Start the engine, run the console until the operator quits, stop the engine cleanly.

    Returns the exit code (0). When another process holds the scheduler lease the console
    opens read-only and says who holds it. The console listens to the engine before it
    starts, so a poll failing in the first second is shown too.
    """
    live = LiveState()
    unsubscribe = engine.events.subscribe(live.on_event)
    engine.start()
    try:
        result = ShopodooApp(
            engine=engine,
            store=store,
            config=config,
            paths=paths,
            validator=validator,
            tester=tester,
            suggester=suggester,
            record_search=record_search,
            stock_locations=stock_locations,
            resync=resync,
            on_config_saved=on_config_saved,
            reconcile=reconcile,
            live=live,
            demo=demo,
        ).run()
    finally:
        engine.stop()
        unsubscribe()
    return int(result or 0)
