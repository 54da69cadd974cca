"""Cross-checks of a template: text names, links, locked regions, email footer rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mjml import mjml2html

import renderers

from .errors import TemplateError
from .texts import CONTEXT_NAMES, EMAIL_NAMES, check_no_bare_urls, check_text, referenced_names

NAMED_TEXT = re.compile(r"texts\s*\.\s*(\w+)")

if TYPE_CHECKING:
    from .locales import Translation
    from .template import Template


def _layout_pages(template: Template):
    """(file section, where, page) for every page of the pdf and image layouts."""
    if template.pdf:
        for i, page in enumerate(template.pdf.pages):
            yield "pdf", f"pages[{i}].frames", page
    if template.image:
        yield "image", "canvas.layers", template.image.page


def _check_links(used: set[str], template: Template, file: str, where: str) -> None:
    """Every link a text or QR code uses must be a declared destination."""
    missing = used - {name for name, _ in template.links}
    if missing:
        raise TemplateError(file, where, f"uses undeclared link destinations {sorted(missing)}")


def _check_layouts(template: Template, files: dict, names: frozenset[str]) -> None:
    """Frame texts and QR links in the print and image layouts."""
    editable = {f.name for f in template.fields}
    locked_seen = set()
    for section, where, page in _layout_pages(template):
        for index, frame in enumerate(page.frames):
            spot = f"{where}[{index}]"
            used = check_text(frame.text, names, files[section], f"{spot}.text")
            check_no_bare_urls(frame.text, files[section], f"{spot}.text")
            used |= {frame.link} if frame.link else set()
            _check_links(used, template, files[section], spot)
            if frame.name in template.locked:
                locked_seen.add(frame.name)
                if referenced_names(frame.text) & editable:
                    raise TemplateError(files[section], f"{spot}.text",
                                        f"locked region {frame.name!r} uses an editable field")
    unknown = set(template.locked) - locked_seen
    if unknown:
        raise TemplateError(files["manifest"], "locked", f"no frames named {sorted(unknown)}")


def _check_email(template: Template, files: dict, names: frozenset[str]) -> None:
    """The MJML compiles, and both parts carry the unsubscribe link and postal address."""
    mjml, text, subject = template.email
    names = names | EMAIL_NAMES | renderers.EMAIL_RENDER_NAMES
    used = check_text(mjml, names, files["mjml"], "body")
    used |= check_text(text, names, files["text"], "body")
    used |= check_text(subject, names - {"subject"}, files["manifest"], "email.subject")
    extras = template.email_extras
    for key, value in (("preheader", extras.preheader), ("hero_alt", extras.hero_alt)):
        used |= check_text(value, names, files["manifest"], f"email.{key}")
    _check_links(used, template, files["mjml"], "body")
    for source, file in ((mjml, files["mjml"]), (text, files["text"])):
        if source is text and not text.strip():
            continue  # no text part of its own: it is made from the HTML
        if "unsubscribe_url" not in source or "partner.address" not in source:
            raise TemplateError(file, "footer", "must show {{ unsubscribe_url }} and "
                                                "{{ partner.address }}")
    try:
        mjml2html(mjml, disable_comments=True)
    except Exception as exc:  # mjml-python raises its own error types
        raise TemplateError(files["mjml"], "mjml", f"does not compile: {exc}") from None


def _names(template: Template) -> frozenset[str]:
    """Names any text of the template may use."""
    return frozenset({f.name for f in template.fields} | {r.name for r in template.rules}
                     | CONTEXT_NAMES)


def _check_named_texts(template: Template, files: dict) -> None:
    """Every {{ texts.<name> }} a layout or email uses is declared in [texts]."""
    declared = {name for name, _ in template.texts}
    sources = [f.text for _, _, page in _layout_pages(template) for f in page.frames]
    sources += list(template.email or ()) + [text for _, text in template.posts]
    used = {name for source in sources for name in NAMED_TEXT.findall(source)}
    if used - declared:
        raise TemplateError(files["manifest"], "texts",
                            f"texts used but not declared: {sorted(used - declared)}")


def check_translated_texts(template: Template, translation: Translation, file: str) -> None:
    """A locale file's texts use only the names the template's own texts may use."""
    names = _names(template)
    entries = [(f"texts.{n}", v) for n, v in translation.texts]
    entries += [(f"fields.{n}.default", v) for n, v in translation.fields]
    entries += [(f"personalize.{n}", v) for n, d, values in translation.rules
                for v in (d, *dict(values).values())]
    entries += [(f"variants.{v}.{n}", t) for v, pairs in translation.variants for n, t in pairs]
    for where, text in entries:
        check_text(text, names, file, where)
        check_no_bare_urls(text, file, where)
    if translation.subject:
        check_text(translation.subject, (names | EMAIL_NAMES) - {"subject"}, file,
                   "email.subject")


def check_template_texts(template: Template, files: dict) -> None:
    """Validate every text of the template against the names it may use."""
    names = _names(template)
    _check_named_texts(template, files)
    _check_layouts(template, files, names)
    if template.email:
        _check_email(template, files, names)
    for network, text in template.posts:
        used = check_text(text, names, files["posts"], f"{network}.text")
        check_no_bare_urls(text, files["posts"], f"{network}.text")
        _check_links(used, template, files["posts"], f"{network}.text")
