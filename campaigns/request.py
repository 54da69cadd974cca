"""Resolve template + partner + variant + fields into one hashable render request."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import renderers

from .errors import RequestError
from .fields import strip_bidi_controls
from .layouts import FrameDef, PageDef
from .template import Template
from .texts import LINK_REFERENCE, render_text
from .vocabulary import QR, channel_for

LinkFor = Callable[[str, str, str], str]
FORMATS = {"pdf": "pdf", "png": "png", "jpg": "jpg", "email": "html"}
# Outside tcma's database (tcma render) an email has no tracked unsubscribe link: this merge tag
# stands in its place and the sender fills it per recipient; no open pixel is added.
PLACEHOLDER_UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
PLACEHOLDER_PIXEL = ""


@dataclass(frozen=True)
class PartnerProfile:
    """Who a render is for: segmentation attributes and brand kit."""

    name: str
    slug: str
    tier: str
    vertical: str
    region: str
    locale: str
    brand: renderers.BrandKit


@dataclass(frozen=True)
class RenderRequest:
    """A fully resolved render: spec for the renderers and the key naming its output."""

    template: str
    output: str
    format: str
    variant: str | None
    partner: str
    spec: renderers.RenderSpec
    key: str
    links: tuple[tuple[str, str], ...]


def identity_link(name: str, url: str, channel: str) -> str:
    """Default link_for: embed the destination URL as it is."""
    return url


def output_format(output: str) -> str:
    """File format of an output name (pdf, png, jpg, html, txt)."""
    return "txt" if output.startswith("post:") else FORMATS[output]


def _values(tpl: Template, profile: PartnerProfile, variant: str | None,
            fields: Mapping[str, Any]) -> dict[str, str]:
    """Field defaults < personalization rules < variant overrides < partner field values."""
    values = {f.name: f.default for f in tpl.fields}
    for rule in tpl.rules:
        values[rule.name] = rule.choose(getattr(profile, rule.by))
    if variant is not None:
        values.update(dict(tpl.variant_overrides)[variant])
    values.update(tpl.validate_fields(fields))  # a submitted blank blanks the field
    for field in tpl.fields:  # a choice is stored as the template names it, shown translated
        if field.choice_labels and values[field.name] in field.choices:
            values[field.name] = field.choice_labels[field.choices.index(values[field.name])]
    return values


def field_values(tpl: Template, profile: PartnerProfile, variant: str | None = None,
                 fields: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The value each editable field of `tpl` renders with for this partner, variant and values
    (as `resolve_request` resolves them); raises FieldError on a bad value."""
    values = _values(tpl, profile, variant, fields or {})
    return {field.name: values[field.name] for field in tpl.fields}


def _partner(profile: PartnerProfile, html: bool) -> dict[str, Any]:
    """Partner data exposed to templates (always as data, never as template source)."""
    brand = profile.brand
    contact = brand.contact
    # In HTML an override mark could flip a subject line or page title; print and image
    # renderers remove such marks themselves and say so in a warning.
    clean = strip_bidi_controls if html else str
    return {"name": clean(brand.name or profile.name), "address": clean(brand.address),
            "tier": profile.tier, "vertical": profile.vertical, "region": profile.region,
            "locale": profile.locale,
            "contact": {"name": clean(contact.name), "email": clean(contact.email),
                        "phone": clean(contact.phone), "website": clean(contact.website)}}


def _sources(tpl: Template, output: str) -> list[str]:
    """Texts an output renders (to find the link destinations it uses)."""
    if output.startswith("post:"):
        return [dict(tpl.posts)[output.partition(":")[2]]]
    if output == "email":
        return list(tpl.email)
    frames = [f for p in _pages(tpl, output) for f in p.frames]
    return [f.text for f in frames] + [f"links.{f.link}" for f in frames if f.link and f.kind != "qr"]


def _links(tpl: Template, output: str, link_for: LinkFor) -> dict[str, str]:
    """Tracked URLs for the destinations this output uses, from link_for.

    Links in text travel on the output's channel; a QR code's link is a link of its own on the
    "qr" channel, so scans are told apart from clicks (keys "qr:<destination>").
    """
    used = {a or b for s in _sources(tpl, output) for a, b in LINK_REFERENCE.findall(s)}
    scanned = {f.link for p in _pages(tpl, output) for f in p.frames if f.kind == "qr"}
    destinations = dict(tpl.links)
    wanted = [(name, name, channel_for(output)) for name in sorted(used)]
    wanted += [(f"{QR}:{name}", name, QR) for name in sorted(scanned)]
    links = {}
    for key, name, channel in wanted:
        url = link_for(name, destinations[name], channel)
        if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
            raise RequestError(f"link_for returned {url!r} for {name!r}; need an http(s) URL")
        links[key] = url
    return links


def _pages(tpl: Template, output: str) -> tuple[PageDef, ...]:
    if output == "pdf":
        return tuple(tpl.pdf.pages)
    return (tpl.image.page,) if output in ("png", "jpg") else ()


def _color(token: str, brand: renderers.BrandKit) -> str:
    """Brand token or literal colour to #rrggbb."""
    return _brand_color(token, brand.primary, brand.secondary)


@functools.lru_cache(maxsize=4096)
def _brand_color(token: str, primary: str, secondary: str) -> str:
    """`_color` for a brand's two colours (worked out once: a launch asks the same few often)."""
    if token.startswith("on-"):
        return renderers.readable_on(_brand_color(token[3:], primary, secondary))
    if token.endswith("-ink"):
        return renderers.shade_for(_brand_color(token[:-4], primary, secondary), "#ffffff")
    return {"primary": primary, "secondary": secondary}.get(token, token)


def _contact_text(partner: Mapping[str, Any]) -> str:
    """The contact block: name, email and phone, website, address; empty parts skipped."""
    contact = partner["contact"]
    reach = "  \u00b7  ".join(v for v in (contact["email"], contact["phone"]) if v)
    address = " \u00b7 ".join(line.strip() for line in partner["address"].splitlines() if line)
    website = re.sub(r"^https?://", "", contact["website"]).rstrip("/")  # printed as people read it
    lines = [contact["name"] or partner["name"], reach, website, address]
    return "\n".join(line for line in lines if line)


def _frame(frame: FrameDef, tpl: Template, context: dict, brand) -> Any:
    """Resolve one frame definition into a renderers frame."""
    color = _color(frame.color, brand)
    if frame.kind in ("text", "contact"):
        text = (_contact_text(context["partner"]) if frame.kind == "contact"
                else render_text(frame.text, context))
        link = context["links"][frame.link] if frame.link else ""
        return renderers.TextFrame(frame.name, frame.box, text, color, frame.font, frame.size,
                                   frame.min_size, frame.align, frame.leading, frame.valign, link)
    if frame.kind == "rect":
        return renderers.RectFrame(frame.name, frame.box, color)
    if frame.kind == "logo":
        plate_color = _color(frame.plate_color, brand) if frame.plate_color else ""
        return renderers.LogoFrame(frame.name, frame.box, frame.plate, frame.align, frame.padding,
                                   plate_color)
    if frame.kind == "qr":
        return renderers.QrFrame(frame.name, frame.box, context["links"][f"{QR}:{frame.link}"], color)
    return renderers.PictureFrame(frame.name, frame.box, tpl.resources[frame.picture])


def _page(page: PageDef, tpl: Template, context: dict, brand) -> renderers.Page:
    """Resolve a page definition."""
    frames = tuple(_frame(f, tpl, context, brand) for f in page.frames)
    background = tpl.resources[page.background] if page.background else None
    return renderers.Page(frames, background, _color(page.background_color, brand))


def _freeze(value: Any) -> Any:
    """Dicts to sorted (key, value) tuples so the email values are hashable."""
    if isinstance(value, Mapping):
        return tuple((k, _freeze(v)) for k, v in sorted(value.items()))
    return value


def _spec(tpl: Template, output: str, context: dict, brand, extra: dict) -> Any:
    """Build the renderers spec for one output."""
    if output == "pdf":
        pages = tuple(_page(p, tpl, context, brand) for p in tpl.pdf.pages)
        title = f"{tpl.name} \u2013 {context['partner']['name']}"
        return renderers.PdfSpec(tpl.pdf.size, pages, brand, tpl.pdf.bleed, title=title,
                                 lang=_output_language(tpl, context["partner"]["locale"]),
                                 subject=tpl.description)
    if output in ("png", "jpg"):
        return renderers.ImageSpec(tpl.image.size, _page(tpl.image.page, tpl, context, brand),
                                   brand, output)
    if output == "email":
        mjml, text, subject = tpl.email
        extra, kit, header, hosted = _email_logo(tpl, brand, extra)
        values = {**context, **extra, "primary": brand.primary, "secondary": brand.secondary}
        values["subject"] = render_text(subject, values)
        extras = tpl.email_extras
        hero = tpl.resources[extras.hero] if extras.hero else None
        return renderers.EmailSpec(mjml, text, values["subject"], _freeze(values), kit,
                                   preheader=render_text(extras.preheader, values),
                                   lang=_output_language(tpl, context["partner"]["locale"]),
                                   hero=hero,
                                   hero_alt=render_text(extras.hero_alt, values),
                                   header_color=header, logo_stored_only=hosted)
    network = output.partition(":")[2]
    return renderers.PostSpec(network, render_text(dict(tpl.posts)[network], context))


def _email_logo(tpl: Template, brand: renderers.BrandKit,
                extra: dict) -> tuple[dict, renderers.BrandKit, str, bool]:
    """The stored logo variant that reads on the email's header colour, and its plate if any.

    An email with hosted logos links to stored files, so only variants with a URL take part
    (logo_url for light backgrounds, logo_dark_url for dark ones); without one that reads, a
    plate makes it read. Without hosted logos the email carries its logo inline, so a missing
    variant may be derived. Returns the values, the brand kit and header colour the renderer
    applies the same rule to, and whether only stored logos may show.
    """
    light_url, dark_url = extra.pop("logo_url"), extra.pop("logo_dark_url")
    hosted = bool(light_url or dark_url)
    kit = brand
    if hosted:
        kit = brand if dark_url else dataclasses.replace(brand, logo_dark=None)
        if not light_url:
            kit = dataclasses.replace(kit, logo=None)
    backdrop = _color(tpl.email_logo_backdrop, brand)
    choice = renderers.choose_brand_logo(kit, backdrop, stored_only=hosted)
    if choice is None:
        return {**extra, "logo_url": "", "logo_plate": ""}, kit, backdrop, hosted
    url = (dark_url if choice.variant == "dark" and dark_url else light_url) if hosted else ""
    plate = "#{:02x}{:02x}{:02x}".format(*choice.plate) if choice.plate else ""
    return {**extra, "logo_url": url, "logo_plate": plate}, kit, backdrop, hosted


def _output_language(tpl: Template, locale: str) -> str:
    """The language outputs declare: the partner's locale when the texts are in its language
    (a translation applied, or the template's own), else the template's language."""
    if locale and locale.replace("_", "-").lower().split("-")[0] == tpl.language.split("-")[0]:
        return locale
    return tpl.language


def resolve_request(
    tpl: Template, profile: PartnerProfile, output: str, variant: str | None = None,
    fields: Mapping[str, Any] | None = None, link_for: LinkFor | None = None,
    unsubscribe_url: str = PLACEHOLDER_UNSUBSCRIBE, pixel_url: str = PLACEHOLDER_PIXEL,
    logo_url: str = "", logo_dark_url: str = "",
) -> RenderRequest:
    """Resolve everything a render needs; raises RequestError or FieldError on bad input.

    Texts come in the partner's locale (locales/<tag>.toml along de-DE -> de -> default).
    """
    tpl = tpl.localized(profile.locale)
    if output not in tpl.outputs:
        raise RequestError(f"template {tpl.slug!r} has no output {output!r} ({tpl.outputs})")
    if variant is not None and variant not in tpl.variants:
        raise RequestError(f"template {tpl.slug!r} has no variant {variant!r} ({tpl.variants})")
    if not tpl.available_to_tier(profile.tier):
        raise RequestError(f"template {tpl.slug!r} is not available to tier {profile.tier!r}")
    links = _links(tpl, output, link_for or identity_link)
    context = {**_values(tpl, profile, variant, fields or {}),
               "partner": _partner(profile, html=output == "email"), "links": links,
               "language": tpl.language}
    # Named texts may use fields and partner data ("with {{ partner.name }}"), never links.
    context["texts"] = {name: render_text(text, context) for name, text in tpl.texts}
    extra = {"unsubscribe_url": unsubscribe_url, "pixel_url": pixel_url, "logo_url": logo_url,
             "logo_dark_url": logo_dark_url}
    spec = _spec(tpl, output, context, profile.brand, extra)
    digest = renderers.spec_digest(spec)
    key_source = json.dumps([tpl.slug, output, variant, digest])
    key = hashlib.sha256(key_source.encode()).hexdigest()
    return RenderRequest(tpl.slug, output, output_format(output), variant, profile.slug, spec,
                         key, tuple(sorted(links.items())))
