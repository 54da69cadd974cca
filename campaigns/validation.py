"""Cross-checks of a template: text names, links, locked regions, email footer rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mjml import mjml2html

import renderers

from .errors import Problems, TemplateError
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


def _check_layouts(template: Template, files: dict, names: frozenset[str], problems: Problems,
                   check_locked: bool) -> None:
    """Frame texts and QR links in the print and image layouts, each frame on its own."""
    editable = {f.name for f in template.fields}
    locked_seen = set()
    for section, where, page in _layout_pages(template):
        for index, frame in enumerate(page.frames):
            problems.attempt(_check_frame, frame, template, files[section], f"{where}[{index}]",
                             names)
            if frame.name in template.locked:
                locked_seen.add(frame.name)
                if referenced_names(frame.text) & editable:
                    problems.add(files[section], f"{where}[{index}].text",
                                 f"locked region {frame.name!r} uses an editable field")
    unknown = set(template.locked) - locked_seen
    if unknown and check_locked:
        problems.add(files["manifest"], "locked", f"no frames named {sorted(unknown)}")


def _check_frame(frame, template: Template, file: str, spot: str, names: frozenset[str]) -> None:
    """A frame's text uses known names and no bare URL; its links are declared."""
    used = check_text(frame.text, names, file, f"{spot}.text")
    check_no_bare_urls(frame.text, file, f"{spot}.text")
    used |= {frame.link} if frame.link else set()
    _check_links(used, template, file, spot)


def _check_email(template: Template, files: dict, names: frozenset[str]) -> None:
    """The MJML compiles, and both parts carry the unsubscribe link and postal address."""
    mjml, text, subject = template.email
    names = names | EMAIL_NAMES | renderers.EMAIL_RENDER_NAMES
    problems = Problems()
    extras = template.email_extras
    sources = [(mjml, files["mjml"], "body", names), (text, files["text"], "body", names),
               (subject, files["manifest"], "email.subject", names - {"subject"}),
               (extras.preheader, files["manifest"], "email.preheader", names),
               (extras.hero_alt, files["manifest"], "email.hero_alt", names)]
    used = set()
    for source, file, where, allowed in sources:
        used |= problems.attempt(check_text, source, allowed, file, where, default=set())
    problems.attempt(_check_links, used, template, files["mjml"], "body")
    for source, file in ((mjml, files["mjml"]), (text, files["text"])):
        if source is text and not text.strip():
            continue  # no text part of its own: it is made from the HTML
        if "unsubscribe_url" not in source or "partner.address" not in source:
            problems.add(file, "footer", "must show {{ unsubscribe_url }} and "
                                         "{{ partner.address }}")
    try:
        mjml2html(mjml, disable_comments=True)
    except Exception as exc:  # mjml-python raises its own error types
        problems.add(files["mjml"], "mjml", f"does not compile: {exc}")
    problems.raise_if_any()


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
    problems = Problems()
    for where, text in entries:
        if problems.passes(check_text, text, names, file, where):
            problems.attempt(check_no_bare_urls, text, file, where)
    if translation.subject:
        problems.attempt(check_text, translation.subject, (names | EMAIL_NAMES) - {"subject"},
                         file, "email.subject")
    problems.raise_if_any()


def check_template_texts(template: Template, files: dict, check_locked: bool = True) -> None:
    """Validate every text of the template against the names it may use, reporting them all.

    check_locked: whether every layout parsed, so a locked region without its frame is an error.
    """
    names = _names(template)
    problems = Problems()
    problems.attempt(_check_named_texts, template, files)
    _check_layouts(template, files, names, problems, check_locked)
    if template.email:
        problems.attempt(_check_email, template, files, names)
    for network, text in template.posts:
        problems.attempt(_check_post, template, files["posts"], network, text, names)
    problems.raise_if_any()


def _check_post(template: Template, file: str, network: str, text: str,
                names: frozenset[str]) -> None:
    """A post's text uses known names, no bare URL and declared links."""
    used = check_text(text, names, file, f"{network}.text")
    check_no_bare_urls(text, file, f"{network}.text")
    _check_links(used, template, file, f"{network}.text")
