"""Campaign domain: template catalogue, personalization rules, variants, render requests.

Public API:

- ``load_catalogue(root: Path) -> dict[str, Template]``; ``load_template(folder: Path)``;
  ``template_from_spec(spec: Mapping, resources: Callable[[str], bytes]) -> Template``.
- ``Template``: ``slug``, ``name``, ``description``, ``outputs``, ``fields`` (``FieldDef``),
  ``variants``, ``tiers``, ``locked``, ``available_to_tier(tier)``,
  ``validate_fields(values) -> dict``, ``to_spec() -> dict`` (JSON-serialisable).
- ``PartnerProfile(name, slug, tier, vertical, region, locale, brand: renderers.BrandKit)``.
- ``resolve_request(tpl, profile, output, variant=None, fields=None, link_for=None,
  unsubscribe_url=..., pixel_url=..., logo_url="") -> RenderRequest`` with ``key``
  (sha256 hex of the resolved inputs), ``output``, ``format``, ``spec``, ``links``.
  ``link_for(destination, url, channel) -> str`` returns the tracked URL to embed.
- ``field_values(tpl, profile, variant=None, fields=None) -> dict``: each editable field's value
  as a render resolves it.
- ``output_format(output)``; errors ``TemplateError`` (file, field), ``FieldError`` (field),
  ``RequestError``. A template with several problems raises ``TemplateErrors``, a TemplateError
  whose ``errors`` lists each (file, field, message); any TemplateError's ``errors`` is a list.
"""

from .errors import FieldError, RequestError, TemplateError, TemplateErrors
from .fields import FieldDef
from .request import (
    PLACEHOLDER_PIXEL,
    PLACEHOLDER_UNSUBSCRIBE,
    PartnerProfile,
    RenderRequest,
    field_values,
    output_format,
    resolve_request,
)
from .template import Template, load_catalogue, load_template, template_from_spec
from .texts import render_text

__all__ = [
    "PLACEHOLDER_PIXEL", "PLACEHOLDER_UNSUBSCRIBE", "FieldDef", "FieldError", "PartnerProfile",
    "RenderRequest", "RequestError", "Template", "TemplateError", "TemplateErrors", "field_values",
    "load_catalogue", "load_template", "output_format", "render_text", "resolve_request",
    "template_from_spec",
]
