"""Templates: load a folder or a stored spec, validate everything, expose what partners need."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import renderers

from .errors import TemplateError
from .fields import FieldDef, missing_required, parse_field, validate_values
from .layouts import (
    ImageLayout,
    PdfLayout,
    check_color,
    check_keys,
    parse_image_layout,
    parse_pdf_layout,
)
from .locales import LOCALE_TAG, Translation, check_complete, localize, parse_translation
from .rules import Rule, parse_rule, parse_variants
from .validation import check_template_texts, check_translated_texts
from .vocabulary import OUTPUTS, POST_PREFIX, tier_allows

SPEC_FORMAT = 1
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
IMAGE_OUTPUTS = ("png", "jpg")
MANIFEST_KEYS = {"name", "description", "outputs", "tiers", "locked", "links", "fields",
                 "personalize", "variants", "email", "texts", "language"}
LOCALES_DIR = "locales"
EMAIL_KEYS = {"subject", "logo_backdrop", "preheader", "hero", "hero_alt"}
FILES = {"manifest": "manifest.toml", "pdf": "pdf.toml", "image": "image.toml",
         "posts": "posts.toml", "mjml": "email.mjml", "text": "email.txt"}


@dataclass(frozen=True)
class EmailExtras:
    """An email's preheader (Jinja text), hero picture and its alternative text."""

    preheader: str = ""
    hero: str = ""
    hero_alt: str = ""


@dataclass(frozen=True)
class Template:
    """A validated campaign template: manifest, personalization and output definitions."""

    slug: str
    name: str
    description: str
    outputs: tuple[str, ...]
    fields: tuple[FieldDef, ...]
    tiers: tuple[str, ...]
    locked: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    rules: tuple[Rule, ...]
    variant_overrides: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    pdf: PdfLayout | None
    image: ImageLayout | None
    email: tuple[str, str, str] | None  # (mjml, text, subject); an empty text: made from the HTML
    posts: tuple[tuple[str, str], ...]
    resources: Mapping[str, renderers.Resource] = field(repr=False, compare=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    email_extras: EmailExtras = field(default_factory=lambda: EmailExtras())
    texts: tuple[tuple[str, str], ...] = ()  # named literal texts: {{ texts.<name> }}
    language: str = "en"  # the language of the texts above (or of the locale applied)
    email_logo_backdrop: str = "#ffffff"  # colour (or brand token) behind the email's logo
    translations: Mapping[str, Translation] = field(default_factory=dict, repr=False,
                                                    compare=False)
    localized_cache: dict[str, Template] = field(default_factory=dict, repr=False,
                                                 compare=False)

    def localized(self, locale: str) -> Template:
        """This template in locale, along de-DE -> de -> the template's own language."""
        return localize(self, locale)

    @property
    def variants(self) -> tuple[str, ...]:
        """Names of the A/B variants."""
        return tuple(name for name, _ in self.variant_overrides)

    def available_to_tier(self, tier: str) -> bool:
        """Whether partners of tier may use this template (no tiers listed: everyone)."""
        return tier_allows(self.tiers, tier)

    def validate_fields(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Cleaned partner field values, or FieldError naming the bad field."""
        return validate_values({f.name: f for f in self.fields}, values)

    def missing_required(self, values: Mapping[str, Any]) -> list[str]:
        """The required fields (only the partner can fill them) that values leaves blank."""
        return missing_required({f.name: f for f in self.fields}, values)

    def stand_in_fields(self) -> dict[str, str]:
        """Values for the partner-only fields of a trial or warm-up render (their examples)."""
        fields = {f.name: f for f in self.fields}
        return {name: fields[name].example or fields[name].label or name
                for name in self.missing_required({})}

    def to_spec(self) -> dict[str, Any]:
        """JSON-serialisable definition; binaries are referenced by name and sha256."""
        return copy.deepcopy(dict(self.raw))


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, naming it in the error."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(str(path), "syntax", str(exc)) from None


def load_template(folder: Path) -> Template:
    """Load and validate templates/<slug>/ (manifest.toml plus output definitions)."""
    folder = Path(folder)
    manifest = folder / FILES["manifest"]
    if not manifest.is_file():
        raise TemplateError(str(manifest), "manifest", "file is missing")
    spec: dict[str, Any] = {"format": SPEC_FORMAT, "slug": folder.name,
                            "manifest": _read_toml(manifest)}
    for section in ("pdf", "image", "posts"):
        if (folder / FILES[section]).is_file():
            spec[section] = _read_toml(folder / FILES[section])
    if (folder / FILES["mjml"]).is_file():
        spec["email"] = {"mjml": (folder / FILES["mjml"]).read_text(encoding="utf-8"),
                         "text": _read_optional(folder / FILES["text"])}
    locales = sorted((folder / LOCALES_DIR).glob("*.toml"))
    if locales:
        spec["locales"] = {path.stem: _read_toml(path) for path in locales}
    files = {section: str(folder / name) for section, name in FILES.items()}
    files["locales"] = str(folder / LOCALES_DIR)
    return _build(spec, lambda name: (folder / name).read_bytes(), files, verify=False)


def _read_optional(path: Path) -> str:
    """Text of a file, or empty when missing (validated later)."""
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def template_from_spec(spec: Mapping[str, Any], resources: Callable[[str], bytes]) -> Template:
    """Rebuild a Template from to_spec() output; resources(name) returns binary content."""
    if not isinstance(spec, Mapping) or spec.get("format") != SPEC_FORMAT:
        raise TemplateError("spec", "format", f"must be {SPEC_FORMAT}")
    files = {section: f"spec:{section}" for section in (*FILES, "locales")}
    return _build(copy.deepcopy(dict(spec)), resources, files, verify=True)


def load_catalogue(root: Path) -> dict[str, Template]:
    """Every template under root (one folder each), keyed by slug, in slug order."""
    root = Path(root)
    if not root.is_dir():
        raise TemplateError(str(root), "folder", "templates folder does not exist")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return {folder.name: load_template(folder) for folder in folders}


class _Resources:
    """Loads named binaries once and records their hashes for the spec."""

    def __init__(self, read: Callable[[str], bytes], known: Mapping | None):
        self._read, self._known = read, known
        self.loaded: dict[str, renderers.Resource] = {}

    def __call__(self, name: str, where: str, file: str) -> renderers.Resource:
        """The resource called name, or TemplateError naming the field that asked for it."""
        if name in self.loaded:
            return self.loaded[name]
        if not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name):
            raise TemplateError(file, where, f"bad resource name {name!r}")
        try:
            data = self._read(name)
        except (OSError, KeyError) as exc:
            raise TemplateError(file, where, f"resource {name!r} not found ({exc})") from None
        resource = renderers.Resource(name, data)
        if self._known is not None and self._known.get(name) != resource.sha256:
            raise TemplateError(file, where, f"resource {name!r} does not match its sha256")
        self.loaded[name] = resource
        return resource


def _build(spec: dict, read, files: dict, verify: bool) -> Template:
    """Validate every section of a spec dict and assemble the Template."""
    slug = spec.get("slug", "")
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise TemplateError(files["manifest"], "slug", "must be lowercase letters, digits, '-'")
    manifest = spec.get("manifest")
    file = files["manifest"]
    if not isinstance(manifest, Mapping):
        raise TemplateError(file, "manifest", "must be a table")
    unknown = set(manifest) - MANIFEST_KEYS
    if unknown:
        raise TemplateError(file, sorted(unknown)[0], "unknown key")
    resources = _Resources(read, spec.get("resources") if verify else None)
    parts = _parse_outputs(spec, manifest, files, resources)
    template = Template(slug=slug, resources=resources.loaded, raw=spec, **_parse_manifest(
        manifest, file), **parts)
    check_template_texts(template, files)
    template = _with_translations(template, spec.get("locales", {}), files["locales"])
    spec["resources"] = {n: r.sha256 for n, r in sorted(resources.loaded.items())}
    return template


def _with_translations(template: Template, raw: Any, folder: str) -> Template:
    """Parse and check locales/<tag>.toml: known texts, valid Jinja, complete languages."""
    if not isinstance(raw, Mapping):
        raise TemplateError(folder, "locales", "must be a table of locale tables")
    parsed = {}
    for tag, table in raw.items():
        file = f"{folder}/{tag}.toml"
        if not isinstance(tag, str) or not LOCALE_TAG.match(tag.lower()):
            raise TemplateError(file, "locale", f"{tag!r} is not a locale tag such as de or de-CH")
        parsed[tag.lower()] = parse_translation(table, template, file)
    for tag in parsed:
        check_complete(tag, parsed, template, f"{folder}/{tag}.toml")
        check_translated_texts(template, parsed[tag.lower()], file)
    return replace(template, translations=parsed)


def _text(manifest: Mapping, key: str, file: str, required: bool = True) -> str:
    """A text value of the manifest."""
    value = manifest.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TemplateError(file, key, "must be non-empty text" if required else "must be text")
    return value


def _names(manifest: Mapping, key: str, file: str) -> tuple[str, ...]:
    """A list of lowercase names (tiers, locked frames)."""
    value = manifest.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TemplateError(file, key, "must be a list of names")
    return tuple(v.lower() if key == "tiers" else v for v in value)


def _parse_manifest(manifest: Mapping, file: str) -> dict[str, Any]:
    """Name, description, tiers, locked regions, links, fields, rules and variants."""
    fields = manifest.get("fields", {})
    rules = manifest.get("personalize", {})
    if not isinstance(fields, Mapping) or not isinstance(rules, Mapping):
        raise TemplateError(file, "fields" if not isinstance(fields, Mapping) else "personalize",
                            "must be a table")
    parsed_fields = tuple(parse_field(n, r, file) for n, r in fields.items())
    parsed_rules = tuple(parse_rule(n, r, file) for n, r in rules.items())
    clash = {f.name for f in parsed_fields} & {r.name for r in parsed_rules}
    if clash:
        raise TemplateError(file, f"personalize.{sorted(clash)[0]}", "is also an editable field")
    names = {f.name for f in parsed_fields} | {r.name for r in parsed_rules}
    variants = parse_variants(manifest.get("variants", {}), names, file)
    return {
        "name": _text(manifest, "name", file),
        "description": _text(manifest, "description", file),
        "tiers": _names(manifest, "tiers", file), "locked": _names(manifest, "locked", file),
        "links": _parse_links(manifest.get("links", {}), file),
        "fields": parsed_fields, "rules": parsed_rules,
        "variant_overrides": tuple((v, tuple(sorted(o.items()))) for v, o in variants.items()),
        "texts": _named_texts(manifest.get("texts", {}), file),
        "language": _language(manifest, file),
    }


def _named_texts(raw: Any, file: str) -> tuple[tuple[str, str], ...]:
    """The manifest's [texts]: literal texts layouts and emails use as {{ texts.<name> }}."""
    if not isinstance(raw, Mapping):
        raise TemplateError(file, "texts", "must be a table of name = text")
    for name, value in raw.items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not isinstance(value, str):
            raise TemplateError(file, f"texts.{name}", "must be lowercase_name = text")
    return tuple(sorted(raw.items()))


def _language(manifest: Mapping, file: str) -> str:
    """The language tag of the template's own texts (default en)."""
    language = manifest.get("language", "en")
    if not isinstance(language, str) or not LOCALE_TAG.match(language.lower()):
        raise TemplateError(file, "language", "must be a language tag such as en or de")
    return language.lower()


def _parse_links(raw: Any, file: str) -> tuple[tuple[str, str], ...]:
    """Named link destinations (absolute http(s) URLs) that become tracked links."""
    if not isinstance(raw, Mapping):
        raise TemplateError(file, "links", "must be a table of name = URL")
    for name, url in raw.items():
        if not isinstance(url, str) or not re.match(r"^https?://[^\s]+$", url):
            raise TemplateError(file, f"links.{name}", "must be an http(s) URL")
    return tuple(sorted(raw.items()))


def _parse_outputs(spec: Mapping, manifest: Mapping, files: dict, resources) -> dict[str, Any]:
    """Check outputs against the definitions present and parse each definition."""
    file = files["manifest"]
    outputs = manifest.get("outputs")
    if (not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs)
            or len(set(outputs)) != len(outputs)):
        raise TemplateError(file, "outputs", "must list distinct outputs")
    parts: dict[str, Any] = {"outputs": tuple(outputs), "pdf": None, "image": None,
                             "email": None, "posts": (), "email_extras": EmailExtras()}
    for output in outputs:
        _require_definition(output, spec, files)
    if "pdf" in outputs:
        parts["pdf"] = parse_pdf_layout(spec["pdf"], files["pdf"], resources)
    if set(outputs) & set(IMAGE_OUTPUTS):
        parts["image"] = parse_image_layout(spec["image"], files["image"], resources)
    if "email" in outputs:
        email = manifest.get("email", {})
        if not isinstance(email, Mapping):
            raise TemplateError(file, "email", "must be a table with a subject")
        check_keys(email, EMAIL_KEYS, file, "email")
        subject = _text(email, "subject", file)
        parts["email"] = (spec["email"]["mjml"], spec["email"]["text"], subject)
        parts["email_logo_backdrop"] = check_color(email.get("logo_backdrop", "#ffffff"), file,
                                                   "email.logo_backdrop")
        parts["email_extras"] = _email_extras(email, file, resources)
    networks = [o.partition(":")[2] for o in outputs if o.startswith("post:")]
    parts["posts"] = tuple((n, spec["posts"][n]["text"]) for n in networks)
    return parts


def _email_extras(email: Mapping, file: str, resources) -> EmailExtras:
    """Preheader, hero picture (a resource of the template) and the hero's alternative text."""
    preheader, hero = _text(email, "preheader", file, False), _text(email, "hero", file, False)
    hero_alt = _text(email, "hero_alt", file, False)
    if hero:
        resources(hero, "email.hero", file)
        if not hero_alt.strip():
            raise TemplateError(file, "email.hero_alt", "a hero picture needs alternative text")
    return EmailExtras(preheader, hero, hero_alt)


def _require_definition(output: str, spec: Mapping, files: dict) -> None:
    """Each output needs its definition file (and post networks their text)."""
    needs = {"pdf": "pdf", "png": "image", "jpg": "image", "email": "email"}
    if output in needs:
        if needs[output] not in spec:
            file = files["mjml" if output == "email" else needs[output]]
            raise TemplateError(file, output, "output listed but its definition is missing")
        return
    network = output.removeprefix(POST_PREFIX)
    if output not in OUTPUTS:
        raise TemplateError(files["manifest"], "outputs",
                            f"unknown output {output!r} (pdf, png, jpg, email, post:<network>)")
    post = spec.get("posts", {}).get(network)
    if not isinstance(post, Mapping) or not isinstance(post.get("text"), str):
        raise TemplateError(files["posts"], f"{network}.text", "post text is missing")
