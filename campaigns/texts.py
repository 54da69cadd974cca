"""Marketer text templates: sandboxed Jinja where partner values are only ever data."""

from __future__ import annotations

import functools
from typing import Any

import regex
from jinja2 import TemplateSyntaxError, meta

import renderers

from .errors import RequestError, TemplateError

ENV = renderers.sandboxed_environment(autoescape=False)
LINK_REFERENCE = regex.compile(r"links\s*(?:\.\s*(\w+)|\[\s*['\"](\w+)['\"]\s*\])")
BARE_URL = regex.compile(r"https?://")
CONTEXT_NAMES = frozenset({"partner", "links", "texts", "language"})
EMAIL_NAMES = frozenset({"unsubscribe_url", "pixel_url", "logo_url", "logo_plate", "primary",
                         "secondary", "subject"})


@functools.lru_cache(maxsize=2048)
def compile_text(source: str):
    """Compile a Jinja text once per distinct source."""
    return ENV.from_string(source)


# "{{ name }}" or "{{ name.key }}": most texts of a layout, read straight from the context.
LONE_VALUE = regex.compile(r"\{\{ *([^\W\d]\w*)(?:\.([^\W\d]\w*))? *\}\}\Z")
JINJA_WORDS = frozenset({"true", "false", "none", "True", "False", "None", "and", "or", "not", "in",
                         "is", "if", "else"})  # literals and operators, never context names


def _lone_value(source: str, context: dict[str, Any]) -> str | None:
    """What Jinja renders for a text that is one string value of the context, else None (then
    Jinja renders it): a missing name, a dict method (texts.items) or a non-string take Jinja's way."""
    match = LONE_VALUE.match(source)
    if match is None:
        return None
    name, key = match.groups()
    if name in JINJA_WORDS or key in JINJA_WORDS:
        return None
    value = context.get(name)
    if key is not None:
        if type(value) is not dict or hasattr(value, key):
            return None
        value = value.get(key)
    return value if type(value) is str else None


def render_text(source: str, context: dict[str, Any]) -> str:
    """Render a text template with values passed as data (never as template source)."""
    if "{" not in source:
        return source
    lone = _lone_value(source, context)
    if lone is not None:
        return lone
    try:
        return compile_text(source).render(context)
    except Exception as exc:  # a template bug (undefined attribute, 1/0) is the template's fault
        raise RequestError(f"the template text {source[:60]!r} failed: {type(exc).__name__}: {exc}") from None


def check_text(source: str, names: frozenset[str], file: str, where: str) -> set[str]:
    """Validate a Jinja text; return link destinations it uses. Unknown names fail."""
    try:
        unknown = meta.find_undeclared_variables(ENV.parse(source)) - names
    except TemplateSyntaxError as exc:
        raise TemplateError(file, where, f"template error line {exc.lineno}: "
                                         f"{exc.message}") from None
    if unknown:
        raise TemplateError(file, where, f"uses unknown names {sorted(unknown)}")
    return {a or b for a, b in LINK_REFERENCE.findall(source)}


def referenced_names(source: str) -> set[str]:
    """Top-level names a Jinja text uses."""
    return meta.find_undeclared_variables(ENV.parse(source))


def check_no_bare_urls(source: str, file: str, where: str) -> None:
    """Partner-facing URLs must be named destinations so they become tracked links."""
    if BARE_URL.search(source):
        raise TemplateError(file, where, "contains a literal URL; use {{ links.<name> }} "
                                         "so it becomes a tracked link")
