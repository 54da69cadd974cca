"""Render templates for partners described in JSON files (used by the CLI; no database)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import campaigns
import renderers
from tcma.config import ROOT
from tcma.fileio import write_atomically

DEFAULT_TEMPLATES_DIR = ROOT / "templates"
FORMATS = ("pdf", "png", "jpg", "html", "eml", "txt")
MAX_PARTNER_NAME = 200
PARTNER_KEYS = {"name", "tier", "vertical", "region", "locale", "logo", "colors", "contact",
                "address", "fields"}


class RenderingError(ValueError):
    """Bad template, partner file, logo or field; the message names which."""


@dataclass(frozen=True)
class PartnerInput:
    """A partner read from its JSON file: profile and its own field values."""

    source: Path
    profile: campaigns.PartnerProfile
    fields: Mapping[str, str]


def list_templates(templates_dir: Path = DEFAULT_TEMPLATES_DIR) -> list[tuple[str, list[str]]]:
    """(slug, outputs) for every template in the catalogue, outputs named as the API and portal name them."""
    return [(slug, list(tpl.outputs)) for slug, tpl in _catalogue(templates_dir).items()]


def _catalogue(templates_dir: Path) -> dict[str, campaigns.Template]:
    """Load the catalogue, turning template errors into RenderingError."""
    try:
        return campaigns.load_catalogue(templates_dir)
    except campaigns.TemplateError as exc:
        raise RenderingError(f"template error: {exc}") from None


def _text(data: Mapping, key: str, source: Path, limit: int = 200) -> str:
    """A text value of a partner file, checked for type and length."""
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise RenderingError(f"{source}: {key} must be text of at most {limit} characters")
    return value


def _logo(data: Mapping, key: str, source: Path) -> renderers.Logo | None:
    """The logo file a partner file names under key (logo, or logo_dark for dark backgrounds)."""
    if not data.get(key):
        return None
    logo_path = source.parent / _text(data, key, source)
    try:
        return renderers.load_logo(logo_path.read_bytes())
    except OSError as exc:
        raise RenderingError(f"{source}: {key} {logo_path}: {exc.strerror}") from None
    except renderers.LogoError as exc:
        raise RenderingError(f"{source}: {key} {logo_path}: {exc}") from None


def _brand(data: Mapping, source: Path) -> renderers.BrandKit:
    """Brand kit from the partner file: colours, contact, address and logo."""
    colors, contact = data.get("colors", {}), data.get("contact", {})
    if not isinstance(colors, Mapping) or not isinstance(contact, Mapping):
        raise RenderingError(f"{source}: colors and contact must be objects")
    logo, logo_dark = (_logo(data, key, source) for key in ("logo", "logo_dark"))
    try:
        return renderers.BrandKit(
            _text(data, "name", source, MAX_PARTNER_NAME),
            colors.get("primary", "#1f4e79"), colors.get("secondary", "#f2a900"), logo,
            renderers.Contact(*(_text(contact, k, source) for k in
                                ("name", "email", "phone", "website"))),
            _text(data, "address", source, 400), logo_dark=logo_dark,
        )
    except renderers.RenderError as exc:
        raise RenderingError(f"{source}: colors: {exc}") from None


def read_partner_file(source: Path) -> PartnerInput:
    """Read and validate one partner JSON file (and its logo)."""
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RenderingError(f"{source}: not a readable JSON file ({exc})") from None
    if not isinstance(data, Mapping) or not data.get("name"):
        raise RenderingError(f"{source}: must be a JSON object with a name")
    unknown = set(data) - PARTNER_KEYS
    if unknown:
        raise RenderingError(f"{source}: unknown keys {sorted(unknown)}")
    fields = data.get("fields", {})
    if not isinstance(fields, Mapping):
        raise RenderingError(f"{source}: fields must be an object")
    profile = campaigns.PartnerProfile(
        _text(data, "name", source, MAX_PARTNER_NAME), Path(source).stem,
        *(_text(data, k, source, 40) for k in ("tier", "vertical", "region", "locale")),
        brand=_brand(data, Path(source)),
    )
    return PartnerInput(Path(source), profile, dict(fields))


def read_partners(path: Path) -> list[PartnerInput]:
    """One partner file, or every *.json file of a folder (sorted)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise RenderingError(f"{path}: folder has no partner .json files")
        return [read_partner_file(f) for f in files]
    return [read_partner_file(path)]


def _outputs(tpl: campaigns.Template, fmt: str) -> list[str]:
    """Template outputs a --format selects (txt: every post network or the email text)."""
    if fmt not in FORMATS:
        raise RenderingError(f"format must be one of {FORMATS}")
    wanted = [o for o in tpl.outputs if campaigns.output_format(o) == fmt]
    if not wanted and fmt in ("txt", "eml") and "email" in tpl.outputs:
        wanted = ["email"]
    if not wanted:
        formats = sorted({campaigns.output_format(o) for o in tpl.outputs})
        raise RenderingError(f"template {tpl.slug!r} cannot render {fmt} (it renders {formats})")
    return wanted


def _resolve(tpl, partner: PartnerInput, output: str, variant, fields, print_ready: bool) -> Any:
    """Resolve one request (the print-ready variant of a PDF if asked), naming the partner file in errors."""
    try:
        request = campaigns.resolve_request(tpl, partner.profile, output, variant=variant,
                                            fields={**partner.fields, **fields})
    except (campaigns.FieldError, campaigns.RequestError) as exc:
        raise RenderingError(f"{partner.source}: {exc}") from None
    if print_ready:
        return dataclasses.replace(request, spec=dataclasses.replace(request.spec, print_ready=True))
    return request


def _file_data(result: renderers.RenderResult, fmt: str, output: str) -> bytes:
    """The bytes a format writes: an email as its text part, its complete .eml, or standalone HTML."""
    if output == "email" and fmt == "txt":
        return result.text.encode()
    if output == "email" and fmt == "eml":
        return result.extra["eml"]
    return result.data


def _file_name(partner: PartnerInput, output: str, fmt: str, out: Path, folder: bool) -> Path:
    """Where one rendered output goes."""
    base = out / partner.profile.slug if folder else out.with_suffix("")
    suffix = f".{output.partition(':')[2]}" if output.startswith("post:") else ""
    return Path(f"{base}{suffix}.{fmt}")


def render_partner_files(
    template: str, partner_path: Path, fmt: str, out: Path, variant: str | None = None,
    fields: Mapping[str, str] | None = None, templates_dir: Path = DEFAULT_TEMPLATES_DIR,
    print_ready: bool = False,
) -> list[Path]:
    """Validate everything, render every partner in one process, then write all files."""
    if print_ready and fmt != "pdf":
        raise RenderingError("--print makes the print-ready variant of a PDF: use it with --format pdf")
    catalogue = _catalogue(templates_dir)
    if template not in catalogue:
        raise RenderingError(f"unknown template {template!r} (known: {sorted(catalogue)})")
    tpl, folder = catalogue[template], Path(partner_path).is_dir()
    partners = read_partners(Path(partner_path))
    jobs = [(p, o, _resolve(tpl, p, o, variant, fields or {}, print_ready))
            for p in partners for o in _outputs(tpl, fmt)]
    renderer = renderers.Renderer()
    files = {}
    for partner, output, request in jobs:
        try:
            result = renderer.render(request.spec)
        except renderers.RenderError as exc:
            raise RenderingError(f"{partner.source}: {output}: {exc}") from None
        files[_file_name(partner, output, fmt, Path(out), folder)] = _file_data(result, fmt, output)
    return write_files_atomically(files)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_files_atomically(files: Mapping[Path, bytes]) -> list[Path]:
    """Write each file via a temporary file and rename, so no reader sees half a file."""
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    mode = 0o666 & ~_umask()  # what open() would have made: mkstemp's 0600 is for the temp file only
    for path, data in files.items():
        write_atomically(path, data, mode)
        written.append(path)
    return written
