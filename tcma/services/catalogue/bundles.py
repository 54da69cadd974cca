"""Template bundles uploaded in the portal: a .zip of the library's format (manifest.toml, output
definitions, locales, images), checked before anything is stored, kept as a draft to preview for a
partner, then published as the template's next version; and each version's history."""

from __future__ import annotations

import hashlib
import io
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

import campaigns
from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Customization, Partner, TemplateVersion
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import _publish, get_template, latest_version, trial_render
from tcma.services.scoping import require_vendor
from tcma.services.transaction import commit
from tcma.state import app_state
from tcma.storage import NotFound, get_storage

MAX_UNPACKED_BYTES = 60 * 1024 * 1024  # every file unpacked, added up
MAX_ENTRIES = 200
MAX_RATIO = 100  # unpacked size per packed byte of one file: more is a zip bomb
PREVIEW_WIDTH = 480
OUTPUT_FILES = {"pdf": "pdf.toml", "png": "image.toml", "jpg": "image.toml", "email": "email.mjml"}


def _bundle_error(file: str, problem: str) -> InvalidInput:
    """A refusal of the bundle as a whole ("bundle") or of one of its files, named."""
    return InvalidInput(f"{file}: {problem}", {file: [problem]})


def max_bundle_bytes() -> int:
    """The largest .zip accepted: the installation's upload limit."""
    return get_settings().max_upload_bytes


def bundle_too_large() -> InvalidInput:
    """The refusal of a bundle over the upload limit."""
    limit = max_bundle_bytes() / 2**20
    return _bundle_error("bundle",
                         f"the bundle is larger than the limit of {limit:g} MiB; make its images smaller")


def _entries(archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """The bundle's files by path, every one checked before a byte is unpacked."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise _bundle_error("bundle",
                            f"the bundle holds {len(infos)} files; at most {MAX_ENTRIES} are allowed")
    total, files = 0, []
    for info in infos:
        name = info.filename
        path = PurePosixPath(name)
        if "\\" in name or path.is_absolute() or ".." in path.parts or ":" in name:
            raise _bundle_error(name, "a path that leaves the bundle is refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _bundle_error(name, "links are refused; put the file itself in the bundle")
        if info.is_dir():
            continue
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1024 * 1024:
            raise _bundle_error(name, f"unpacks to {info.file_size} bytes from {info.compress_size}; "
                                      "a file this compressed is refused (zip bomb)")
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise _bundle_error("bundle", f"the bundle unpacks to more than {MAX_UNPACKED_BYTES // 2**20} "
                                          "MiB; make the images smaller")
        files.append((name, info))
    return files


def _strip_folder(files: list[tuple[str, zipfile.ZipInfo]]) -> list[tuple[str, zipfile.ZipInfo]]:
    """A bundle zipped as its folder (brochure/manifest.toml) reads as one zipped from inside it."""
    tops = {PurePosixPath(name).parts[0] for name, _ in files}
    if len(tops) == 1 and not any(len(PurePosixPath(n).parts) == 1 for n, _ in files):
        return [(str(PurePosixPath(*PurePosixPath(n).parts[1:])), info) for n, info in files]
    return files


def read_bundle(data: bytes, slug: str) -> campaigns.Template:
    """The template a bundle holds, validated and trial-rendered; InvalidInput names file and field."""
    if len(data) > max_bundle_bytes():
        raise bundle_too_large()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _bundle_error("bundle", "the file is not a .zip bundle") from None
    with archive, tempfile.TemporaryDirectory(prefix="tcma-bundle-") as tmp:
        folder = Path(tmp) / slug
        files = _strip_folder(_entries(archive))
        if "manifest.toml" not in {name for name, _ in files}:
            raise _bundle_error("manifest.toml", "the bundle has no manifest.toml at its top")
        for name, info in files:
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source:
                content = source.read(info.file_size + 1)
            if len(content) != info.file_size:  # a header that lies about the size
                raise _bundle_error(name, "the file's size does not match the bundle's index")
            target.write_bytes(content)
        try:
            tpl = campaigns.load_template(folder)
        except campaigns.TemplateError as exc:
            raise _template_refused(exc, folder) from None
    _trial_render(tpl)
    return tpl


def _template_refused(exc: campaigns.TemplateError, folder: Path) -> InvalidInput:
    """Every problem the template check found, keyed "file: field" with the bundle's own paths."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        file = error.file.replace(str(folder) + "/", "").replace(str(folder), "bundle")
        errors.setdefault(f"{file}: {error.field}", []).append(error.message)
    if len(exc.errors) == 1:
        key, [message] = next(iter(errors.items()))
        return InvalidInput(f"{key}: {message}", errors)
    return InvalidInput(f"the bundle has {len(exc.errors)} problems: {'; '.join(errors)}", errors)


def _trial_render(tpl: campaigns.Template) -> None:
    """The trial render of every output, a refusal named by the bundle file that defines the output."""
    try:
        trial_render(tpl)
    except InvalidInput as exc:
        errors = {}
        for key, messages in exc.errors.items():
            where = key.removeprefix("spec.")
            output = where.split(".")[1] if where.startswith("outputs.") else ""
            file = OUTPUT_FILES.get(output, "posts.toml" if output else "manifest.toml")
            errors[f"{file}: {where}"] = messages
        raise InvalidInput(exc.message, errors) from None


def _draft_key(slug: str, sha: str) -> str:
    return f"template-drafts/{slug}/{sha}.zip"


def upload_bundle(principal: Principal, slug: str, data: bytes) -> str:
    """Check a bundle and keep it as a draft of the template's next version; returns its id."""
    require_vendor(principal)
    tpl = read_bundle(data, slug)
    template = get_template(slug)
    latest = latest_version(template.id)
    if latest is not None and latest.spec == tpl.to_spec():
        raise ConflictError(f"nothing changed: the bundle equals version {latest.version}")
    sha = hashlib.sha256(data).hexdigest()
    get_storage().put(_draft_key(slug, sha), data, "application/zip")
    return sha


def draft_template(principal: Principal, slug: str, draft: str) -> campaigns.Template:
    """A draft's template again (parsed once per process)."""
    require_vendor(principal)
    if not draft.isalnum():
        raise NotFoundError("no such draft")
    try:
        data = get_storage().get(_draft_key(slug, draft))
    except NotFound:
        raise NotFoundError(f"template {slug!r} has no draft {draft[:12]}") from None
    return app_state().templates.get_or_make(f"draft-{draft}", lambda: read_bundle(data, slug))


def preview_partners(principal: Principal, limit: int) -> list[Partner]:
    """Active partners to preview a draft for, by name."""
    require_vendor(principal)
    return list(db.session.scalars(select(Partner).where(Partner.status == "active")
                                   .order_by(Partner.name).limit(limit)))


def preview_draft(principal: Principal, slug: str, draft: str, partner_id: int, output: str) -> bytes:
    """A PNG of one output of the draft as this partner would get it (a PDF's first page)."""
    from tcma.services.launch.renders import partner_profile
    from tcma.services.partners.partners import get_partner

    tpl = draft_template(principal, slug, draft)
    partner: Partner = get_partner(principal, partner_id)
    if output not in tpl.outputs or output.startswith("post:"):
        raise InvalidInput(f"the draft has no picture for output {output!r}", {"output": ["unknown output"]})
    try:
        request = campaigns.resolve_request(tpl, partner_profile(partner), output,
                                            fields=tpl.stand_in_fields())
        return app_state().renderer.preview(request.spec, PREVIEW_WIDTH).data
    except (campaigns.RequestError, campaigns.FieldError) as exc:
        raise InvalidInput(f"{partner.name}: {exc}", {"partner_id": [str(exc)]}) from None


def publish_draft(principal: Principal, slug: str, draft: str) -> TemplateVersion:
    """Publish a draft as the next version; partners' edits carry over where their fields remain."""
    tpl = draft_template(principal, slug, draft)
    version, created = _publish(tpl)
    if not created:
        raise ConflictError(f"nothing changed: the draft equals version {version.version}")
    commit()
    get_storage().delete(_draft_key(slug, draft))
    return version


def _fields(spec: dict[str, Any]) -> dict[str, Any]:
    return dict(spec.get("manifest", {}).get("fields", {}))


def spec_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, list[str]]:
    """What a version changed against the one before: fields and outputs added, removed, changed."""
    before, after = _fields(old or {}), _fields(new)
    outputs_before = set((old or {}).get("manifest", {}).get("outputs", []))
    outputs_after = set(new.get("manifest", {}).get("outputs", []))
    same = set(before) & set(after)
    parts_changed = sorted(k for k in ("pdf", "image", "posts", "email", "locales", "resources")
                           if old is not None and (old.get(k) != new.get(k)))
    return {"fields_added": sorted(set(after) - set(before)),
            "fields_removed": sorted(set(before) - set(after)),
            "fields_changed": sorted(n for n in same if before[n] != after[n]),
            "outputs_added": sorted(outputs_after - outputs_before) if old else [],
            "outputs_removed": sorted(outputs_before - outputs_after),
            "parts_changed": parts_changed}


def latest_spec(slug: str) -> dict[str, Any] | None:
    """The spec of a template's latest version (None before its first)."""
    latest = latest_version(get_template(slug).id)
    return latest.spec if latest else None


def version_history(principal: Principal, slug: str) -> list[dict[str, Any]]:
    """Every version, newest first, with its changes and what became of the partner edits of the
    version before it (carried over whole, or with the fields it no longer accepts dropped)."""
    require_vendor(principal)
    template = get_template(slug)
    versions = sorted(template.versions, key=lambda v: v.version)
    rows, previous, previous_customs = [], None, []
    for version in versions:
        customs = db.session.execute(
            select(Customization, Partner.name).join(Partner, Partner.id == Customization.partner_id)
            .where(Customization.template_version_id == version.id).order_by(Partner.name)).all()
        before = {c.partner_id for c in previous_customs}
        carried = [{"partner": name, "dropped": list(c.dropped_fields or [])}
                   for c, name in customs if c.partner_id in before]
        previous_customs = [c for c, _ in customs]
        rows.append({"version": version.version, "published_at": version.published_at,
                     "outputs": list(version.outputs), "first": previous is None,
                     "changes": spec_changes(previous.spec if previous else None, version.spec),
                     "carried": carried if previous is not None else []})
        previous = version
    return rows[::-1]
