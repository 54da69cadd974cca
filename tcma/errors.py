"""Domain errors: what a use case raises when it refuses; no Flask here (see tcma.http_errors)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A use case refused its input; `status` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status is not None:
            self.status = status


class InvalidInput(DomainError):
    """A value was refused; `errors` names each field (422, as for schema validation)."""

    status = 422


class NotFoundError(DomainError):
    """The row does not exist, or belongs to someone the caller may not see."""

    status = 404


class ConflictError(DomainError):
    """The request clashes with the current state (duplicate slug, wrong status, ...)."""

    status = 409


class PermissionDenied(DomainError):
    """The caller is signed in but their role may not do this."""

    status = 403


class TooManyAttempts(DomainError):
    """The caller must wait before trying again."""

    status = 429


class ServiceUnavailable(DomainError):
    """A service the use case needs is out of reach; try again later."""

    status = 503
