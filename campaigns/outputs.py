"""A template's outputs: which are listed, the definition each needs, and the email's parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Problems, TemplateError
from .layouts import check_color, check_keys, parse_image_layout, parse_pdf_layout
from .vocabulary import OUTPUTS, POST_PREFIX

IMAGE_OUTPUTS = ("png", "jpg")
EMAIL_KEYS = {"subject", "logo_backdrop", "preheader", "hero", "hero_alt"}


@dataclass(frozen=True)
class EmailExtras:
    """An email's preheader (Jinja text), hero picture and its alternative text."""

    preheader: str = ""
    hero: str = ""
    hero_alt: str = ""


def manifest_text(manifest: Mapping, key: str, file: str, required: bool = True) -> str:
    """A text value of the manifest."""
    value = manifest.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TemplateError(file, key, "must be non-empty text" if required else "must be text")
    return value


def parse_outputs(spec: Mapping, manifest: Mapping, files: dict, resources, problems: Problems,
                  unreadable: frozenset[str]) -> tuple[dict[str, Any], bool]:
    """Check outputs against the definitions present and parse each definition on its own.

    Returns the Template's output parts and whether every layout an output needs was valid.
    """
    parts: dict[str, Any] = {"outputs": (), "pdf": None, "image": None, "email": None,
                             "posts": (), "email_extras": EmailExtras()}
    outputs = manifest.get("outputs")
    if (not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs)
            or len(set(outputs)) != len(outputs)):
        problems.add(files["manifest"], "outputs", "must list distinct outputs")
        return parts, False
    parts["outputs"] = tuple(outputs)
    present = [o for o in outputs
               if problems.attempt(_require_definition, o, spec, files, unreadable, default=False)]
    if "pdf" in present:
        parts["pdf"] = problems.attempt(parse_pdf_layout, spec["pdf"], files["pdf"], resources)
    if set(present) & set(IMAGE_OUTPUTS):
        parts["image"] = problems.attempt(parse_image_layout, spec["image"], files["image"],
                                          resources)
    if "email" in present:
        parts.update(problems.attempt(_parse_email, spec["email"], manifest.get("email", {}),
                                      files["manifest"], resources, default={}))
    networks = [o.partition(":")[2] for o in present if o.startswith(POST_PREFIX)]
    parts["posts"] = tuple((n, spec["posts"][n]["text"]) for n in networks)
    complete = (("pdf" not in outputs or parts["pdf"] is not None)
                and (not set(outputs) & set(IMAGE_OUTPUTS) or parts["image"] is not None))
    return parts, complete


def _parse_email(definition: Mapping, email: Any, file: str, resources) -> dict[str, Any]:
    """The email's parts: MJML and text, and the manifest's [email] subject, backdrop and extras."""
    if not isinstance(email, Mapping):
        raise TemplateError(file, "email", "must be a table with a subject")
    problems = Problems()
    problems.attempt(check_keys, email, EMAIL_KEYS, file, "email")
    subject = problems.attempt(manifest_text, email, "subject", file)
    backdrop = problems.attempt(check_color, email.get("logo_backdrop", "#ffffff"), file,
                                "email.logo_backdrop")
    extras = problems.attempt(_email_extras, email, file, resources)
    problems.raise_if_any()
    return {"email": (definition["mjml"], definition["text"], subject),
            "email_logo_backdrop": backdrop, "email_extras": extras}


def _email_extras(email: Mapping, file: str, resources) -> EmailExtras:
    """Preheader, hero picture (a resource of the template) and the hero's alternative text."""
    problems = Problems()
    preheader = problems.attempt(manifest_text, email, "preheader", file, False, default="")
    hero = problems.attempt(manifest_text, email, "hero", file, False, default="")
    hero_alt = problems.attempt(manifest_text, email, "hero_alt", file, False, default="")
    if hero:
        problems.attempt(resources, hero, "email.hero", file)
        if not hero_alt.strip():
            problems.add(file, "email.hero_alt", "a hero picture needs alternative text")
    problems.raise_if_any()
    return EmailExtras(preheader, hero, hero_alt)


def _require_definition(output: str, spec: Mapping, files: dict, unreadable: frozenset[str]) -> bool:
    """Each output needs its definition file (and post networks their text); False: the file is
    there but unreadable, a problem already named."""
    needs = {"pdf": "pdf", "png": "image", "jpg": "image", "email": "email"}
    if output in needs:
        if needs[output] in unreadable:
            return False
        if needs[output] not in spec:
            file = files["mjml" if output == "email" else needs[output]]
            raise TemplateError(file, output, "output listed but its definition is missing")
        return True
    network = output.removeprefix(POST_PREFIX)
    if output not in OUTPUTS:
        raise TemplateError(files["manifest"], "outputs",
                            f"unknown output {output!r} (pdf, png, jpg, email, post:<network>)")
    if "posts" in unreadable:
        return False
    post = spec.get("posts", {}).get(network)
    if not isinstance(post, Mapping) or not isinstance(post.get("text"), str):
        raise TemplateError(files["posts"], f"{network}.text", "post text is missing")
    return True
