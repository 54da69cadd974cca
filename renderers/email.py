"""HTML email: MJML compiled once per template, then sandboxed Jinja fills partner data."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from mjml import mjml2html

from .assets import LruCache
from .spec import EmailSpec, RenderError, RenderResult

REQUIRED_VALUES = ("unsubscribe_url", "pixel_url")


def _nl2br(value: Any) -> Markup:
    """Escape a value and turn its line breaks into <br> (postal addresses)."""
    return Markup("<br>").join(escape(line) for line in str(value).splitlines())


def make_environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    """A sandboxed Jinja environment: marketer templates cannot reach Python internals."""
    env = ImmutableSandboxedEnvironment(
        autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True
    )
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
