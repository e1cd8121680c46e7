"""Statements about the scheduler lease: which process may poll this database (DESIGN §2)."""

from __future__ import annotations

from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Lease

HolderRow = tuple[str, int, str, float, float]  # owner, pid, host, acquired_at, expires_at


def holder(store: Store, name: str) -> HolderRow | None:
    query = Lease.select(
        Lease.owner, Lease.pid, Lease.host, Lease.acquired_at, Lease.expires_at
    ).where(Lease.name == name)
    return next(iter(query.tuples().execute(store.db)), None)


def take(
    store: Store, name: str, *, owner: str, pid: int, host: str, now: float, until: float
) -> None:
    """Write ``owner`` as the holder (the caller has checked, in its transaction, that the
    lease is free, stale or already its own)."""
    values = {
        Lease.owner: owner,
        Lease.pid: pid,
        Lease.host: host,
        Lease.acquired_at: now,
        Lease.expires_at: until,
    }
    (
        Lease.insert({Lease.name: name, **values})
        .on_conflict(conflict_target=[Lease.name], update=values)
        .as_rowcount()
        .execute(store.db)
    )


def renew(store: Store, name: str, owner: str, until: float) -> bool:
    query = Lease.update({Lease.expires_at: until}).where(
        (Lease.name == name) & (Lease.owner == owner)
    )
    return int(query.execute(store.db)) == 1


def give_up(store: Store, name: str, owner: str) -> None:
    Lease.delete().where((Lease.name == name) & (Lease.owner == owner)).execute(store.db)
