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

from .errors import Problems, TemplateError
from .fields import FieldDef, missing_required, parse_field, validate_values
from .layouts import ImageLayout, PdfLayout
from .locales import LOCALE_TAG, Translation, check_complete, localize, parse_translation
from .outputs import EmailExtras, manifest_text, parse_outputs
from .rules import Rule, parse_rule, parse_variants
from .validation import check_template_texts, check_translated_texts
from .vocabulary import tier_allows

SPEC_FORMAT = 1
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MANIFEST_KEYS = {"name", "description", "outputs", "tiers", "locked", "links", "fields",
                 "personalize", "variants", "email", "texts", "language"}
LOCALES_DIR = "locales"
# Manifest sections whose names later checks read; while one is refused, those checks wait.
LOCALES_NEED = frozenset({"fields", "personalize", "variants", "texts"})
TEXTS_NEED = LOCALES_NEED | {"links", "locked", "outputs"}
FILES = {"manifest": "manifest.toml", "pdf": "pdf.toml", "image": "image.toml",
         "posts": "posts.toml", "mjml": "email.mjml", "text": "email.txt"}


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


def _read_text(path: Path) -> str:
    """Text of a file, or empty when missing (validated later); naming it when it is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except UnicodeDecodeError as exc:
        raise TemplateError(str(path), "encoding", f"is not UTF-8 text ({exc.reason})") from None


def load_template(folder: Path) -> Template:
    """Load and validate templates/<slug>/ (manifest.toml plus output definitions).

    Every problem of every file is reported at once (TemplateErrors when there are several). A
    manifest.toml that is missing or not TOML stops at once: nothing else can be checked without it.
    """
    folder = Path(folder)
    manifest = folder / FILES["manifest"]
    if not manifest.is_file():
        raise TemplateError(str(manifest), "manifest", "file is missing")
    spec: dict[str, Any] = {"format": SPEC_FORMAT, "slug": folder.name,
                            "manifest": _read_toml(manifest)}
    problems = Problems()
    unreadable = _read_parts(folder, spec, problems)
    files = {section: str(folder / name) for section, name in FILES.items()}
    files["locales"] = str(folder / LOCALES_DIR)
    return _build(spec, lambda name: (folder / name).read_bytes(), files, verify=False,
                  problems=problems, unreadable=unreadable)


def _read_parts(folder: Path, spec: dict[str, Any], problems: Problems) -> frozenset[str]:
    """Add each output definition and locale file to spec; returns the parts present but unreadable."""
    unreadable = set()
    for section in ("pdf", "image", "posts"):
        if (folder / FILES[section]).is_file():
            table = problems.attempt(_read_toml, folder / FILES[section])
            if table is None:
                unreadable.add(section)
            else:
                spec[section] = table
    if (folder / FILES["mjml"]).is_file():
        mjml, text = (problems.attempt(_read_text, folder / FILES[k]) for k in ("mjml", "text"))
        if mjml is None or text is None:
            unreadable.add("email")
        else:
            spec["email"] = {"mjml": mjml, "text": text}
    locales = {path.stem: problems.attempt(_read_toml, path)
               for path in sorted((folder / LOCALES_DIR).glob("*.toml"))}
    if locales:
        spec["locales"] = {tag: table for tag, table in locales.items() if table is not None}
        unreadable |= {f"locale:{tag}" for tag, table in locales.items() if table is None}
    return frozenset(unreadable)


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
        except (OSError, KeyError) as exc:  # an OSError's text would show the folder's path
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise TemplateError(file, where, f"resource {name!r} not found ({detail})") from None
        resource = renderers.Resource(name, data)
        if self._known is not None and self._known.get(name) != resource.sha256:
            raise TemplateError(file, where, f"resource {name!r} does not match its sha256")
        self.loaded[name] = resource
        return resource


def _build(spec: dict, read, files: dict, verify: bool, problems: Problems | None = None,
           unreadable: frozenset[str] = frozenset()) -> Template:
    """Validate every section of a spec dict and assemble the Template, or raise every problem.

    Independent checks all run and their problems are raised together (TemplateErrors): the
    slug, each manifest key, each output definition (each page and frame of a layout) and each
    locale file. Checks that read names the manifest declares (texts against fields, slots, links
    and locked frames; locale files against the template's own texts) wait until what they read is
    valid, or they would call a name unknown only because its definition was refused. A manifest
    that is not a table stops at once. unreadable: parts present but not readable (already named).
    """
    problems = problems if problems is not None else Problems()
    file = files["manifest"]
    slug = spec.get("slug", "")
    if not isinstance(slug, str) or not SLUG.match(slug):
        problems.add(file, "slug", "must be lowercase letters, digits, '-'")
    manifest = spec.get("manifest")
    if not isinstance(manifest, Mapping):
        problems.add(file, "manifest", "must be a table")
        problems.raise_if_any()
    for key in sorted(set(manifest) - MANIFEST_KEYS):
        problems.add(file, key, "unknown key")
    resources = _Resources(read, spec.get("resources") if verify else None)
    described = _parse_manifest(manifest, file, problems)
    parts, complete = parse_outputs(spec, manifest, files, resources, problems, unreadable)
    template = Template(slug=slug, resources=resources.loaded, raw=spec, **described, **parts)
    if not _refused(problems, file, TEXTS_NEED):
        problems.attempt(check_template_texts, template, files, complete)
    if not _refused(problems, file, LOCALES_NEED):
        template = _with_translations(template, spec.get("locales", {}), files["locales"],
                                      problems, unreadable)
    problems.raise_if_any()
    spec["resources"] = {n: r.sha256 for n, r in sorted(resources.loaded.items())}
    return template


def _refused(problems: Problems, file: str, sections: frozenset[str]) -> bool:
    """Whether a problem was found in one of these sections of the manifest (file)."""
    return any(e.file == file and re.split(r"[.\[]", e.field, maxsplit=1)[0] in sections
               for e in problems.errors)


def _with_translations(template: Template, raw: Any, folder: str, problems: Problems,
                       unreadable: frozenset[str]) -> Template:
    """Parse and check locales/<tag>.toml, each file on its own: known texts, valid Jinja,
    complete languages."""
    if not isinstance(raw, Mapping):
        problems.add(folder, "locales", "must be a table of locale tables")
        return template
    parsed, files = {}, {}
    for tag, table in raw.items():
        file = f"{folder}/{tag}.toml"
        if not isinstance(tag, str) or not LOCALE_TAG.match(tag.lower()):
            problems.add(file, "locale", f"{tag!r} is not a locale tag such as de or de-CH")
            continue
        translation = problems.attempt(parse_translation, table, template, file)
        if translation is not None:
            parsed[tag.lower()], files[tag.lower()] = translation, file
    refused = {str(tag).lower() for tag in raw} - set(parsed)
    refused |= {part.removeprefix("locale:").lower() for part in unreadable if part.startswith("locale:")}
    for tag, translation in parsed.items():
        if tag.partition("-")[0] not in refused:  # else its language file's problems say it all
            problems.attempt(check_complete, tag, parsed, template, files[tag])
        problems.attempt(check_translated_texts, template, translation, files[tag])
    return replace(template, translations=parsed)


def _names(manifest: Mapping, key: str, file: str) -> tuple[str, ...]:
    """A list of lowercase names (tiers, locked frames)."""
    value = manifest.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TemplateError(file, key, "must be a list of names")
    return tuple(v.lower() if key == "tiers" else v for v in value)


def _table(manifest: Mapping, key: str, file: str) -> Mapping:
    """A table of the manifest (empty when absent)."""
    value = manifest.get(key, {})
    if not isinstance(value, Mapping):
        raise TemplateError(file, key, "must be a table")
    return value


def _parse_manifest(manifest: Mapping, file: str, problems: Problems) -> dict[str, Any]:
    """Name, description, tiers, locked regions, links, fields, rules and variants; each checked."""
    fields = problems.attempt(_table, manifest, "fields", file, default={})
    rules = problems.attempt(_table, manifest, "personalize", file, default={})
    parsed_fields = [problems.attempt(parse_field, n, r, file) for n, r in fields.items()]
    parsed_rules = [problems.attempt(parse_rule, n, r, file) for n, r in rules.items()]
    for name in sorted(set(fields) & set(rules)):
        problems.add(file, f"personalize.{name}", "is also an editable field")
    # Declared names, refused ones too: a variant is not to blame for its field's definition.
    variants = problems.attempt(parse_variants, manifest.get("variants", {}),
                                set(fields) | set(rules), file, default={})
    return {
        "name": problems.attempt(manifest_text, manifest, "name", file, default=""),
        "description": problems.attempt(manifest_text, manifest, "description", file, default=""),
        "tiers": problems.attempt(_names, manifest, "tiers", file, default=()),
        "locked": problems.attempt(_names, manifest, "locked", file, default=()),
        "links": problems.attempt(_parse_links, manifest.get("links", {}), file, default=()),
        "fields": tuple(f for f in parsed_fields if f is not None),
        "rules": tuple(r for r in parsed_rules if r is not None),
        "variant_overrides": tuple((v, tuple(sorted(o.items()))) for v, o in variants.items()),
        "texts": problems.attempt(_named_texts, manifest.get("texts", {}), file, default=()),
        "language": problems.attempt(_language, manifest, file, default="en"),
    }


def _named_texts(raw: Any, file: str) -> tuple[tuple[str, str], ...]:
    """The manifest's [texts]: literal texts layouts and emails use as {{ texts.<name> }}."""
    if not isinstance(raw, Mapping):
        raise TemplateError(file, "texts", "must be a table of name = text")
    problems = Problems()
    for name, value in raw.items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not isinstance(value, str):
            problems.add(file, f"texts.{name}", "must be lowercase_name = text")
    problems.raise_if_any()
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
    problems = Problems()
    for name, url in raw.items():
        if not isinstance(url, str) or not re.match(r"^https?://[^\s]+$", url):
            problems.add(file, f"links.{name}", "must be an http(s) URL")
    problems.raise_if_any()
    return tuple(sorted(raw.items()))
