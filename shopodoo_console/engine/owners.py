"""Who holds a job or the scheduler: ``role@host:pid:suffix``, and whether it is still alive.

A worker that was killed on this machine can be recognised at once (its pid is gone), so a
restart resumes its jobs immediately instead of waiting for the lease to run out. On another
host we cannot tell, and wait for the lease.
"""

from __future__ import annotations

import os
import socket
import uuid


def make_owner(role: str = "worker") -> str:
    """A worker identity operators can read: host, pid and a short random suffix."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_is_dead(owner: str | None) -> bool:
    """True only when the owner ran on this host and its process no longer exists."""
    if not owner or "@" not in owner:
        return False
    host_pid = owner.split("@", 1)[1].split(":")
    if len(host_pid) < 2 or not host_pid[1].isdigit():
        return False
    host, pid = host_pid[0], int(host_pid[1])
    return host == socket.gethostname() and pid != os.getpid() and not pid_alive(pid)
