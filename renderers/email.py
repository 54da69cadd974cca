"""HTML email: MJML compiled once per template, then sandboxed Jinja fills partner data."""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from mjml import mjml2html

from .assets import AssetCache, LruCache
from .email_parts import HERO_CID, LOGO_CID, data_uri, eml_bytes, html_to_text
from .logos import fit_size, readable_on
from .palette import email_palette
from .placement import choose_brand_logo
from .spec import EmailSpec, RenderError, RenderResult

REQUIRED_VALUES = ("unsubscribe_url",)
# Names the email renderer adds to every template's context (templates may use them).
RENDER_NAMES = frozenset({"colors", "lang", "dir", "preheader", "logo_src", "logo_width",
                          "logo_height", "logo_plate", "header", "hero_src",
                          "hero_alt"})
RTL_LANGUAGES = ("ar", "he", "fa", "ur", "yi", "ps")
LOGO_BOX = (200, 56)  # CSS pixels the header logo may fill; the image is twice that for HiDPI
HERO_PIXELS = (1200, 480)  # 600 x 240 CSS pixels at 2x


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
    """Render EmailSpec to HTML, plain text and a complete .eml; compiled templates are cached."""

    def __init__(self, cache: AssetCache | None = None) -> None:
        self._cache = cache or AssetCache()
        self._html_env = make_environment(autoescape=True)
        self._text_env = make_environment(autoescape=False)
        self._compiled = LruCache(256)

    def _html_template(self, mjml: str):
        """MJML to HTML once; the Jinja placeholders survive and are compiled once too."""
        key = ("html", hashlib.sha256(mjml.encode()).hexdigest())
        def compile_html():
            html = mjml2html(mjml, disable_comments=True, fonts={})
            return self._html_env.from_string(html)
        return self._compiled.get(key, compile_html)

    def _text_template(self, text: str):
        """Compile the plain-text part once."""
        key = ("text", hashlib.sha256(text.encode()).hexdigest())
        return self._compiled.get(key, lambda: self._text_env.from_string(text))

    def render(self, spec: EmailSpec) -> RenderResult:
        """Fill the email with values (as data, escaped), add the open pixel and build the .eml.

        The HTML (`data`) is complete on its own: the logo is its hosted URL when one is given,
        else inline, like the hero. `extra["eml"]` carries the same email with the images as
        CID parts; the text part is generated from the HTML unless the template has its own.
        """
        context = values_to_dict(spec.values)
        _check_required(context)
        images, presentation = self._presentation(spec, context)
        context = {**context, **presentation}
        try:
            html = self._html_template(spec.mjml).render(context)
            text = (self._text_template(spec.text).render(context) if spec.text.strip()
                    else html_to_text(html))
        except TemplateError as exc:
            raise RenderError(f"email template failed: {exc}") from None
        html = html.replace('<html lang="und" dir="auto"', str(Markup('<html lang="{}" dir="{}"').format(
            presentation["lang"], presentation["dir"])), 1)  # a template that does not set them
        if str(escape(context["unsubscribe_url"])) not in html:
            raise RenderError("email HTML has no unsubscribe link")
        if context.get("pixel_url"):
            html = html.replace("</body>", f"{_pixel_tag(context['pixel_url'])}</body>", 1)
        eml = eml_bytes(spec.subject, html, text, images, presentation["lang"])
        standalone = _inline_images(html, images, context.get("logo_url") or "")
        extra = {"subject": spec.subject, "eml": eml, "preheader": spec.preheader,
                 "lang": presentation["lang"]}
        return RenderResult(standalone.encode("utf-8"), "text/html; charset=utf-8", "html",
                            text=text, extra=extra)

    def _presentation(self, spec: EmailSpec, context: dict) -> tuple[dict, dict]:
        """Colours meeting AA, language and direction, header logo and hero (CID images).

        The header logo follows the shared rule (renderers.placement): the variant that reads
        at 3:1 on the header colour, else the one on a plate; a hosted email shows only the
        logos the brand kit stores (``spec.logo_stored_only``).
        """
        partner = context.get("partner") or {}
        lang = spec.lang or str(partner.get("locale") or "") or "en"
        colors = email_palette(spec.brand.primary, spec.brand.secondary)
        background = spec.header_color or colors["header"]
        values = {"colors": colors, "lang": lang, "preheader": spec.preheader,
                  "dir": "rtl" if lang.split("-")[0].lower() in RTL_LANGUAGES else "ltr",
                  "logo_src": "", "logo_width": 0, "logo_height": 0, "logo_plate": "",
                  "hero_src": "", "hero_alt": spec.hero_alt,
                  "header": {"background": background, "text": readable_on(background)}}
        images: dict[str, tuple[bytes, str]] = {}
        choice = choose_brand_logo(spec.brand, background, stored_only=spec.logo_stored_only)
        if choice is not None:
            logo = choice.logo
            width, height = (max(round(v), 1) for v in fit_size(logo, LOGO_BOX))
            images[LOGO_CID] = (self._logo_png(logo, (width * 2, height * 2)), "image/png")
            plate = "#{:02x}{:02x}{:02x}".format(*choice.plate) if choice.plate else ""
            values.update(logo_src=f"cid:{LOGO_CID}", logo_width=width, logo_height=height,
                          logo_plate=plate)
        if spec.hero is not None:
            images[HERO_CID] = (self._cache.cover_jpeg(spec.hero, HERO_PIXELS), "image/jpeg")
            values["hero_src"] = f"cid:{HERO_CID}"
        return images, values

    def _logo_png(self, logo, pixels: tuple[int, int]) -> bytes:
        """The logo resampled once to pixels, as PNG bytes."""
        def encode() -> bytes:
            out = io.BytesIO()
            self._cache.fitted_logo(logo, pixels).save(out, "PNG", optimize=False)
            return out.getvalue()
        return self._compiled.get(("logo", logo.sha256, pixels), encode)


def _inline_images(html: str, images: dict[str, tuple[bytes, str]], logo_url: str) -> str:
    """The HTML with CID references replaced: the hosted logo URL if any, else data URIs."""
    for cid, (data, media_type) in images.items():
        source = logo_url if cid == LOGO_CID and logo_url else data_uri(data, media_type)
        html = html.replace(f'src="cid:{cid}"', f'src="{escape(source)}"')
    return html


def _check_required(context: Mapping[str, Any]) -> None:
    """Every email needs an unsubscribe URL, an open pixel URL and the sender's postal address."""
    for name in REQUIRED_VALUES:
        if not context.get(name):
            raise RenderError(f"email needs a value for {name}")
    partner = context.get("partner") or {}
    if isinstance(partner, Mapping) and not str(partner.get("address") or "").strip():
        raise RenderError("the partner has no postal address; commercial email must show one "
                          "(add it to the brand kit)")
