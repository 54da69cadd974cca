"""Errors of the campaign domain, each naming what was wrong and where."""

from __future__ import annotations


class TemplateError(ValueError):
    """A template file that does not validate; names the file and the field."""

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file, self.field, self.message = file, field, message


class FieldError(ValueError):
    """A partner-supplied field value that is not accepted; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field!r}: {message}")
        self.field, self.message = field, message


class RequestError(ValueError):
    """A render request that cannot be resolved (unknown output, variant, bad tracked URL)."""
