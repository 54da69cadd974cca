"""HTML email: MJML compiled once per template, then sandboxed Jinja fills partner data."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from mjml import mjml2html

from .assets import LruCache
from .spec import EmailSpec, RenderError, RenderResult

REQUIRED_VALUES = ("unsubscribe_url", "pixel_url")


def _nl2br(value: Any) -> Markup:
    """Escape a value and turn its line breaks into <br> (postal addresses)."""
    return Markup("<br>").join(escape(line) for line in str(value).splitlines())


MAX_TEXT = 200_000  # characters (or items) one expression may build
MAX_EXPONENT = 64


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """The Jinja sandbox, refusing expressions that would build huge values ('x' * 10**9)."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"an exponent above {MAX_EXPONENT} is not allowed in a template")
        if operator == "*" and _size(left) * _count(right) + _size(right) * _count(left) > MAX_TEXT:
            raise SecurityError(f"a template may not build a value of more than {MAX_TEXT} characters")
        if operator == "+" and _size(left) + _size(right) > MAX_TEXT:
            raise SecurityError(f"a template may not build a value of more than {MAX_TEXT} characters")
        return super().call_binop(context, operator, left, right)


WIDTH = re.compile(r"%[-+ #0]*(\d+)")


def _bounded(func: Any) -> Any:
    """A filter that refuses widths and counts (center(10**7), "%099999999d"|format) past MAX_TEXT."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]
        widths = [int(w) for a in args if isinstance(a, str) for w in WIDTH.findall(a)]
        if any(abs(n) > MAX_TEXT for n in (*numbers, *widths)):
            raise SecurityError(f"a template may not build a value of more than {MAX_TEXT} characters")
        return func(*args, **kwargs)

    return bounded


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def make_environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    """A sandboxed Jinja environment: no Python internals, no huge values, for marketer templates."""
    env = LimitedSandbox(
        autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True
    )
    for name, func in list(env.filters.items()):
        env.filters[name] = _bounded(func)
    env.filters["nl2br"] = _nl2br
    return env


def values_to_dict(values: Any) -> Any:
    """Turn the spec's nested (key, value) tuples back into dicts for Jinja."""
    if isinstance(values, tuple) and all(isinstance(v, tuple) and len(v) == 2 for v in values):
        if all(isinstance(k, str) for k, _ in values):
            return {k: values_to_dict(v) for k, v in values}
    return values


def _pixel_tag(url: str) -> Markup:
    """A 1x1 open-tracking image tag for url, escaped."""
    return Markup('<img src="{}" width="1" height="1" alt="" style="display:block;border:0;'
                  'height:1px;width:1px" />').format(url)


class EmailRenderer:
    """Render EmailSpec to HTML and plain text; compiled templates are cached by hash."""

    def __init__(self) -> None:
        self._html_env = make_environment(autoescape=True)
        self._text_env = make_environment(autoescape=False)
        self._compiled = LruCache(256)

    def _html_template(self, mjml: str):
        """MJML to HTML once; the Jinja placeholders survive and are compiled once too."""
        key = ("html", hashlib.sha256(mjml.encode()).hexdigest())
        def compile_html():
            html = mjml2html(mjml, disable_comments=True)
            return self._html_env.from_string(html)
        return self._compiled.get(key, compile_html)

    def _text_template(self, text: str):
        """Compile the plain-text part once."""
        key = ("text", hashlib.sha256(text.encode()).hexdigest())
        return self._compiled.get(key, lambda: self._text_env.from_string(text))

    def render(self, spec: EmailSpec) -> RenderResult:
        """Fill the email with values (as data, escaped) and add the open pixel."""
        context = values_to_dict(spec.values)
        _check_required(context)
        try:
            html = self._html_template(spec.mjml).render(context)
            text = self._text_template(spec.text).render(context)
        except TemplateError as exc:
            raise RenderError(f"email template failed: {exc}") from None
        if str(escape(context["unsubscribe_url"])) not in html:
            raise RenderError("email HTML has no unsubscribe link")
        html = html.replace("</body>", f"{_pixel_tag(context['pixel_url'])}</body>", 1)
        extra = {"subject": spec.subject}
        return RenderResult(html.encode("utf-8"), "text/html; charset=utf-8", "html",
                            text=text, extra=extra)


def _check_required(context: Mapping[str, Any]) -> None:
    """Every email needs an unsubscribe URL, an open pixel URL and the sender's postal address."""
    for name in REQUIRED_VALUES:
        if not context.get(name):
            raise RenderError(f"email needs a value for {name}")
    partner = context.get("partner") or {}
    if isinstance(partner, Mapping) and not str(partner.get("address") or "").strip():
        raise RenderError("the partner has no postal address; commercial email must show one "
                          "(add it to the brand kit)")
