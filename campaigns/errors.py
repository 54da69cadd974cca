"""Errors of the campaign domain, each naming what was wrong and where."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class TemplateError(ValueError):
    """A template file that does not validate; names the file and the field."""

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file, self.field, self.message = file, field, message

    @property
    def errors(self) -> list[TemplateError]:
        """Every problem this error reports: itself alone."""
        return [self]


class TemplateErrors(TemplateError):
    """Several problems of one template found in one pass; file, field and message are the first's.

    A TemplateError itself, so that `except TemplateError` still catches a template refused for
    more than one reason; `errors` lists each problem with its own file and field.
    """

    def __init__(self, errors: Sequence[TemplateError]) -> None:
        first = errors[0]
        super().__init__(first.file, first.field, first.message)
        self.args = (f"{len(errors)} problems:" + "".join(f"\n- {e}" for e in errors),)
        self._errors = list(errors)

    @property
    def errors(self) -> list[TemplateError]:
        """Every problem found, in the order the checks ran."""
        return list(self._errors)


class Problems:
    """Collects the problems of independent checks so that one pass reports them all."""

    def __init__(self) -> None:
        self.errors: list[TemplateError] = []

    def add(self, file: str, field: str, message: str) -> None:
        """Record one problem."""
        self.errors.append(TemplateError(file, field, message))

    def attempt(self, check: Callable[..., T], *args: Any, default: Any = None) -> T:
        """check(*args), or default when it refuses (its problems are recorded)."""
        try:
            return check(*args)
        except TemplateError as exc:
            self.errors.extend(exc.errors)
            return default

    def passes(self, check: Callable[..., Any], *args: Any) -> bool:
        """Whether check(*args) passes; when it does not, its problems are recorded."""
        before = len(self.errors)
        self.attempt(check, *args)
        return len(self.errors) == before

    def raise_if_any(self) -> None:
        """Raise the one problem found, or TemplateErrors when there are several."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise TemplateErrors(self.errors)


class FieldError(ValueError):
    """A partner-supplied field value that is not accepted; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field!r}: {message}")
        self.field, self.message = field, message


class RequestError(ValueError):
    """A render request that cannot be resolved (unknown output, variant, bad tracked URL)."""
