"""Polling a stream: changes become jobs, and the cursor moves only once they are stored.

Each page is enqueued and its cursor position written in the same transaction, so a crash
between pages loses nothing and repeats nothing that the job keys would not absorb. Rewinding
a cursor is therefore always safe: the re-sighted versions are counted, not re-done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shopodoo_console.causes import CauseError
from shopodoo_console.engine import events as ev
from shopodoo_console.engine.flows import Flow, ShopRef
from shopodoo_console.engine.queue import Queue
from shopodoo_console.explain import for_a_poll
from shopodoo_console.redact import redact
from shopodoo_console.store import cursors

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    shop: str
    stream: str
    pages: int = 0
    new: int = 0
    seen: int = 0
    superseded: int = 0
    cursor: str | None = None
    ok: bool = True
    message: str = ""
    cause_code: str | None = None


def stream_of(flow: Flow) -> str:
    return flow.stream


class Poller:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.store = queue.store

    def position(self, shop_id: int, stream: str) -> str | None:
        return cursors.position(self.store, shop_id, stream)

    def set_position(self, shop_id: int, stream: str, position: str | None) -> None:
        cursors.set_position(self.store, shop_id, stream, position)

    def poll(self, shop: ShopRef, flow: Flow) -> PollResult:
        stream = stream_of(flow)
        result = PollResult(shop=shop.domain, stream=stream)
        self.queue.events.emit(ev.POLL_STARTED, shop=shop.domain, stream=stream)
        since = self.position(shop.id, stream)
        result.cursor = since
        try:
            for page in flow.poll(shop, since):
                with self.store.atomic(bulk=True):
                    outcome = self.queue.enqueue(shop.id, shop.domain, flow.name, page.changes)
                    if page.cursor is not None:
                        self.set_position(shop.id, stream, page.cursor)
                        result.cursor = page.cursor
                result.pages += 1
                result.new += outcome.new
                result.seen += outcome.seen
                result.superseded += outcome.superseded
        except CauseError as exc:
            result.ok, result.cause_code = False, exc.cause.code
            result.message = redact(for_a_poll(exc.cause))
        except Exception as exc:  # a poll bug is reported on the stream, not a crash
            log.exception("poll of %s %s failed", shop.domain, stream)
            result.ok, result.cause_code = False, "engine.handler_crashed"
            result.message = redact(f"{type(exc).__name__}: {exc}")
        self._record(shop.id, stream, result)
        if result.ok:
            self.queue.events.emit(
                ev.POLL_FINISHED,
                shop=shop.domain,
                stream=stream,
                pages=result.pages,
                new=result.new,
                seen=result.seen,
                cursor=result.cursor,
            )
        else:
            self.queue.events.emit(
                ev.POLL_FAILED,
                shop=shop.domain,
                stream=stream,
                cause_code=result.cause_code,
                message=result.message,
            )
        return result

    def _record(self, shop_id: int, stream: str, result: PollResult) -> None:
        summary = (
            result.message
            if not result.ok
            else (f"{result.new} new, {result.seen} seen again, {result.pages} page(s)")
        )
        with self.store.atomic():
            cursors.record_poll(self.store, shop_id, stream, ok=result.ok, message=summary)
