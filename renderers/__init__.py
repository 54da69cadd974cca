"""Co-branding renderers: fully resolved, frozen specs in; bytes and metadata out.

Public API (everything else is internal):

- ``Renderer()``: ``render(spec) -> RenderResult``; keeps caches (fonts, resampled
  backgrounds, fitted logos, compiled MJML/Jinja) for batch use, thread-safe.
- Specs: ``PdfSpec``, ``ImageSpec``, ``EmailSpec``, ``PostSpec`` built from ``Page`` and the
  frames ``TextFrame``, ``RectFrame``, ``LogoFrame``, ``QrFrame``, ``PictureFrame``;
  binaries are ``Resource`` (hashed once); the partner's ``BrandKit`` and ``Contact``.
- ``RenderResult(data, media_type, extension, warnings, text, extra)``.
- ``load_logo(data) -> Logo``: validates uploads; raises ``LogoError``.
- ``readable_on(color) -> str``: text colour that reads on a background colour.
- ``choose_brand_logo(brand, backdrop_color, stored_only)`` -> ``LogoChoice``: the logo
  variant (for light or dark backgrounds) and plate that read at ``MIN_LOGO_CONTRAST`` on a
  solid backdrop; images and PDFs use the same rule on what is really behind the frame.
- ``shade_for(color, background, ratio)``, ``contrast(a, b)``, ``email_palette(primary,
  secondary)``: brand colours shaded to meet WCAG AA where they are used.
- ``sandboxed_environment(autoescape)``: the Jinja sandbox used for marketer templates.
- ``spec_digest(spec) -> str``: sha256 hex of the fully resolved inputs.
- ``post_length(network, text)``, ``POST_LIMITS``: the networks' counting rules.
- Errors: ``RenderError`` (bad spec, post too long), ``LogoError`` (bad upload).

Fonts are DejaVu Sans (Latin, Greek, Cyrillic) embedded from ``assets/fonts``; Arabic and
Hebrew (right to left, joined), CJK and emoji use the packaged Noto fallbacks and are shaped
(``renderers.shaping``); what no installed font can draw is reported as a warning.
"""

from .digest import RENDERER_VERSION, spec_digest
from .email import RENDER_NAMES as EMAIL_RENDER_NAMES
from .email import make_environment as sandboxed_environment
from .email_parts import html_to_text
from .engine import Renderer
from .fonts import BIDI_CONTROLS
from .logos import LogoError, load_logo, readable_on
from .palette import contrast, email_palette, shade_for
from .placement import MIN_LOGO_CONTRAST, LogoChoice, choose_brand_logo, logo_variants
from .posts import LIMITS as POST_LIMITS
from .posts import post_length
from .spec import (
    NETWORKS,
    BrandKit,
    Contact,
    EmailSpec,
    ImageSpec,
    Logo,
    LogoFrame,
    Page,
    PdfSpec,
    PictureFrame,
    PostSpec,
    QrFrame,
    RectFrame,
    RenderError,
    RenderResult,
    RenderSpec,
    Resource,
    TextFrame,
)

__all__ = [
    "BIDI_CONTROLS", "MIN_LOGO_CONTRAST", "NETWORKS", "LogoChoice", "choose_brand_logo",
    "logo_variants", "POST_LIMITS", "RENDERER_VERSION", "BrandKit", "Contact", "EmailSpec",
    "ImageSpec", "Logo", "LogoError", "LogoFrame", "Page", "PdfSpec", "PictureFrame", "PostSpec",
    "QrFrame", "RectFrame", "RenderError", "RenderResult", "RenderSpec", "Renderer", "Resource",
    "TextFrame", "load_logo", "readable_on", "post_length", "sandboxed_environment", "spec_digest",
    "contrast", "email_palette", "shade_for", "EMAIL_RENDER_NAMES", "html_to_text",
]
