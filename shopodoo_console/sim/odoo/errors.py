"""Odoo's exception classes as the simulator raises them (odoo.md §3).

Each carries the ``name`` Odoo puts in ``error.data.name`` (JSON-RPC) or the JSON-2 body, and the
HTTP status JSON-2 answers with (odoo.md §2.3 table). The dispatcher turns them into the wire
shapes; business code just raises them.
"""

from __future__ import annotations


class SimError(Exception):
    """Base: an error with Odoo's wire name, a JSON-2 status and a message."""

    name = "builtins.Exception"
    http_status = 500
    traceback = True  # AccessDenied hides its traceback (odoo.md §3.1)

    def __init__(self, message: str, *arguments: object) -> None:
        super().__init__(message)
        self.message = message
        self.arguments: list[object] = [message, *arguments]


class UserError(SimError):
    name = "odoo.exceptions.UserError"
    http_status = 422


class ValidationError(UserError):
    name = "odoo.exceptions.ValidationError"


class AccessError(UserError):
    name = "odoo.exceptions.AccessError"
    http_status = 403


class AccessDenied(UserError):
    name = "odoo.exceptions.AccessDenied"
    http_status = 403
    traceback = False

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class MissingError(UserError):
    name = "odoo.exceptions.MissingError"
    http_status = 404


class LockError(UserError):
    name = "odoo.exceptions.LockError"
    http_status = 409

    def __init__(self, message: str = "Record(s) could not be locked.") -> None:
        super().__init__(message)


class SerializationFailure(SimError):
    name = "psycopg2.errors.SerializationFailure"
    http_status = 500

    def __init__(
        self, message: str = "could not serialize access due to concurrent update"
    ) -> None:
        super().__init__(message)


class NotFound(SimError):
    name = "werkzeug.exceptions.NotFound"
    http_status = 404


class Unauthorized(SimError):
    name = "werkzeug.exceptions.Unauthorized"
    http_status = 401


class BadRequest(SimError):
    name = "werkzeug.exceptions.BadRequest"
    http_status = 400


class UnprocessableEntity(SimError):
    name = "werkzeug.exceptions.UnprocessableEntity"
    http_status = 422


class PyError(SimError):
    """A plain Python exception (ValueError, TypeError, AttributeError …): 500 on JSON-2."""

    def __init__(self, pytype: str, message: str) -> None:
        super().__init__(message)
        self.name = f"builtins.{pytype}"


def missing_error(model: str, ids: list[int], uid: int) -> MissingError:
    """ "Record does not exist or has been deleted." with Odoo's record/user suffix (§3.4)."""
    inner = ", ".join(str(i) for i in ids) + ("," if len(ids) == 1 else "")
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model}({inner}), User: {uid})"
    )


def sql_error(reason: str) -> ValidationError:
    """The shape of a constraint violation turned into a ValidationError (§3.4)."""
    return ValidationError(f"The operation cannot be completed: {reason}")
