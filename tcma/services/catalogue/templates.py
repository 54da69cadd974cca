"""Template catalogue in the database: immutable versions, resources in storage, customizations."""

from __future__ import annotations

import gc
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jinja2.exceptions import SecurityError
from sqlalchemy import func, select

import campaigns
import renderers
from campaigns.vocabulary import tier_allows
from tcma.config import get_settings
from tcma.errors import ConflictError, InvalidInput, NotFoundError
from tcma.extensions import db
from tcma.models import Customization, Template, TemplateVersion
from tcma.services.accounts.auth import Principal
from tcma.services.scoping import require_vendor
from tcma.services.transaction import commit
from tcma.state import app_state
from tcma.storage import NotFound, get_storage


def resource_key(sha256: str) -> str:
    """Where a template's binary resource is stored: content-addressed, shared by versions."""
    return f"template-resources/{sha256[:2]}/{sha256}"


def _store_resources(tpl: campaigns.Template) -> None:
    storage = get_storage()
    for resource in tpl.resources.values():
        key = resource_key(resource.sha256)
        if not storage.exists(key):
            storage.put(key, resource.data, "application/octet-stream")


def _resource_reader(spec: dict[str, Any]):
    hashes = spec.get("resources", {})

    def read(name: str) -> bytes:
        if name not in hashes:
            raise campaigns.TemplateError("spec", f"resources.{name}", "is not listed")
        try:
            return get_storage().get(resource_key(hashes[name]))
        except NotFound:
            raise campaigns.TemplateError("spec", f"resources.{name}", "is not stored") from None

    return read


def template_for_version(version: TemplateVersion) -> campaigns.Template:
    """The parsed template of a version; versions never change, so parses are cached."""
    cache = app_state().templates
    spec = version.spec
    return cache.get_or_make(
        version.id, lambda: campaigns.template_from_spec(spec, _resource_reader(spec))
    )


def latest_version(template_id: int) -> TemplateVersion | None:
    """The newest published version of a template."""
    return db.session.scalar(
        select(TemplateVersion).where(TemplateVersion.template_id == template_id)
        .order_by(TemplateVersion.version.desc()).limit(1)
    )


def _publish(tpl: campaigns.Template) -> tuple[TemplateVersion, bool]:
    """Add a version when the spec differs from the latest; returns (version, created)."""
    from tcma.services.tracking.links import register_destination

    template = db.session.scalar(select(Template).where(Template.slug == tpl.slug))
    if template is None:
        template = Template(slug=tpl.slug, name=tpl.name, description=tpl.description)
        db.session.add(template)
        db.session.flush()
    spec = tpl.to_spec()
    latest = latest_version(template.id)
    if latest is not None and latest.spec == spec:
        return latest, False
    _store_resources(tpl)
    template.name, template.description = tpl.name, tpl.description
    version = TemplateVersion(template=template, version=(latest.version + 1) if latest else 1,
                              spec=spec, outputs=list(tpl.outputs), available_tiers=list(tpl.tiers))
    db.session.add(version)
    for name, url in tpl.links:
        register_destination(name, url)
    db.session.flush()
    if latest is not None:
        _carry_customizations(latest, version, tpl)
    return version, True


def import_catalogue(root: str | Path | None = None) -> list[tuple[str, int, bool]]:
    """Publish every template of the shipped library that is new or changed."""
    catalogue = campaigns.load_catalogue(Path(root or get_settings().templates_dir))
    published = []
    for tpl in catalogue.values():
        trial_render(tpl)
        version, created = _publish(tpl)
        published.append((tpl.slug, version.version, created))
    commit()
    return published


def publish_version(principal: Principal, slug: str, spec: dict[str, Any]) -> TemplateVersion:
    """Publish a new version of a template from a spec; resources must already be stored."""
    require_vendor(principal)
    if spec.get("slug") != slug:
        raise InvalidInput("the spec's slug must match the template", {"spec.slug": [f"must be {slug!r}"]})
    try:
        tpl = campaigns.template_from_spec(spec, _resource_reader(spec))
    except campaigns.TemplateError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(f"spec.{error.field}", []).append(str(error))
        raise InvalidInput(f"invalid template: {exc}", errors) from None
    trial_render(tpl)
    version, created = _publish(tpl)
    if not created:
        raise ConflictError("nothing changed: the spec equals the latest version")
    commit()
    return version


TRIAL_SECONDS = 5.0  # every output and variant of a template, rendered for a stand-in partner
TRIAL_MAX_BYTES = 20 * 1024 * 1024


class TrialTimeout(BaseException):
    """A trial render ran past its time budget (a BaseException: no `except Exception` may swallow it)."""


def trial_render(tpl: campaigns.Template) -> None:
    """Render every output and variant for a stand-in partner; refuse the template naming the part.

    What a template would do to every partner it does here first, under the sandbox's size limits
    and a time budget: a template that fails, builds huge values or runs too long never becomes a
    partner's latest version.
    """
    profile = campaigns.PartnerProfile(
        "Trial Partner GmbH", "trial-partner", (tpl.tiers or ("any",))[0], "any", "any", "en",
        renderers.BrandKit("Trial Partner GmbH", address="1 Trial Street\nSpringfield"))
    renderer = app_state().renderer
    where = "outputs"
    try:
        with _time_budget(TRIAL_SECONDS):
            for output in tpl.outputs:
                for variant in (None, *tpl.variants):
                    where = f"outputs.{output}" + (f".variants.{variant}" if variant else "")
                    _trial_one(renderer, tpl, profile, output, variant, where)
    except TrialTimeout:
        raise InvalidInput(f"{where} takes longer than {TRIAL_SECONDS:g} s to render for one partner",
                           {f"spec.{where}": ["too slow to render"]}) from None


def _trial_one(renderer, tpl, profile, output: str, variant: str | None, where: str) -> None:
    try:
        request = campaigns.resolve_request(tpl, profile, output, variant=variant,
                                            fields=tpl.stand_in_fields())
        result = renderer.render(request.spec)
    except (campaigns.RequestError, campaigns.FieldError, renderers.RenderError, SecurityError) as exc:
        raise InvalidInput(f"{where} does not render: {exc}", {f"spec.{where}": [str(exc)]}) from None
    if len(result.data) > TRIAL_MAX_BYTES:
        raise InvalidInput(f"{where} renders {len(result.data)} bytes, more than {TRIAL_MAX_BYTES}",
                           {f"spec.{where}": ["renders too large a file"]})


@contextmanager
def _time_budget(seconds: float):
    """Raise TrialTimeout in this thread after `seconds` (main thread only: signals need it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    over = False

    def expire(signum, frame):
        if not over:  # a tick handled after the budget ended is dropped
            raise TrialTimeout()

    def lost(unraisable) -> None:
        """The alarm landed where Python can only report it (a weakref or collector callback): it
        is ours, so it is not reported, and it is raised again a moment later."""
        if not isinstance(unraisable.exc_value, TrialTimeout):
            reporting(unraisable)
        elif not over:
            signal.setitimer(signal.ITIMER_REAL, 0.05)

    previous = signal.signal(signal.SIGALRM, expire)
    reporting, sys.unraisablehook = sys.unraisablehook, lost
    collecting = gc.isenabled()
    gc.disable()  # no collector callbacks for the alarm to land in while the budget runs
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        over = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = reporting
        if collecting:
            gc.enable()


def _carry_customizations(old: TemplateVersion, new: TemplateVersion, tpl: campaigns.Template) -> None:
    """Copy partners' edits to the new version where the fields still exist; note the rest."""
    names = {f.name for f in tpl.fields}
    for custom in db.session.scalars(
        select(Customization).where(Customization.template_version_id == old.id)
    ):
        kept = {k: v for k, v in custom.fields.items() if k in names}
        dropped = sorted(set(custom.fields) - names)
        while True:  # the validator names one bad field at a time
            try:
                kept = tpl.validate_fields(kept)
                break
            except campaigns.FieldError as exc:
                dropped.append(exc.field)
                kept.pop(exc.field, None)
        db.session.add(Customization(partner_id=custom.partner_id, template_version_id=new.id,
                                     fields=kept, dropped_fields=dropped))


def list_templates(tier: str | None = None) -> list[tuple[Template, TemplateVersion]]:
    """Each template with its latest version; with a tier, only those that tier may use."""
    latest = (select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
              .group_by(TemplateVersion.template_id).subquery())
    rows = db.session.execute(
        select(Template, TemplateVersion).join(TemplateVersion)
        .join(latest, (latest.c.template_id == Template.id) & (latest.c.v == TemplateVersion.version))
        .order_by(Template.slug)
    ).all()
    pairs = [(t, v) for t, v in rows]
    if tier is not None:
        pairs = [(t, v) for t, v in pairs if tier_allows(v.available_tiers, tier)]
    return pairs


def get_template(slug: str) -> Template:
    """A template by slug, or 404."""
    template = db.session.scalar(select(Template).where(Template.slug == slug))
    if template is None:
        raise NotFoundError(f"template {slug!r} not found")
    return template


def get_version(slug: str, version: int | None = None) -> TemplateVersion:
    """A version of a template (the latest when `version` is None), or 404."""
    template = get_template(slug)
    if version is None:
        found = latest_version(template.id)
    else:
        found = db.session.scalar(select(TemplateVersion).where(
            TemplateVersion.template_id == template.id, TemplateVersion.version == version))
    if found is None:
        raise NotFoundError(f"template {slug!r} has no version {version}")
    return found


def warm_templates() -> int:
    """Parse the latest version of every template now, so forked work horses inherit them."""
    pairs = list_templates()
    for _, version in pairs:
        template_for_version(version)
    return len(pairs)
