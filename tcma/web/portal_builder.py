"""The campaign builder: pick templates and outputs, define the segment with a live count of who it
reaches (and who is skipped, and why), create the draft, review it and go to the contact sheet to
launch, then watch the renders' progress to done without reloading."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from marshmallow import ValidationError

from campaigns.vocabulary import POST_PREFIX
from tcma.errors import DomainError
from tcma.schemas.experiments import ExperimentSchema
from tcma.services.accounts.auth import Principal
from tcma.services.catalogue.templates import list_templates, template_for_version
from tcma.services.experiments.experiments import create_experiment, list_experiments
from tcma.services.insights.reach import output_label, segment_reach
from tcma.services.launch.launches import campaign_progress, create_campaign, get_campaign
from tcma.services.partners.taxonomy import KINDS, list_taxonomy
from tcma.services.scheduled_launches import cancel_scheduled_launch, schedule_launch, scheduled_launch_of
from tcma.web.portal import VENDOR, field_errors, page, page_required, portal_blueprint

bp = portal_blueprint("portal_builder", __name__, url_prefix="/portal/campaigns")
MAX_NAME = 200


class FormError(DomainError):
    """A builder form field that cannot be read; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, {field: [message]}, status=422)


def _partner_ids(raw: str) -> list[int]:
    ids = []
    for part in raw.replace(",", " ").split():
        if not part.isdigit() or not 0 < int(part) < 2**31:
            raise FormError("partner_ids",
                            f"partner ids are numbers separated by commas; {part!r} is not one")
        ids.append(int(part))
    return sorted(set(ids))


def _form() -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The segment and outputs the form asks for (the same fields for the preview and the draft)."""
    source = request.form if request.method == "POST" else request.args
    segment: dict[str, Any] = {key: sorted(set(source.getlist(key))) for key in KINDS}
    segment["partner_ids"] = _partner_ids(source.get("partner_ids", ""))
    outputs = []
    for value in source.getlist("output"):
        template, _, output = value.partition("|")
        if not template or not output:
            raise FormError("output",
                            f"an output is a template and an output, like brochure|pdf; not {value!r}")
        outputs.append({"template": template, "output": output})
    return segment, outputs


def _builder_page(principal: Principal, status: int = 200, **context: Any):
    nothing = {"output": set(), **{k: set() for k in KINDS}, "partner_ids": "", "name": ""}
    context.setdefault("chosen", nothing)
    return page("portal/builder.html", status, templates=list_templates(),
                taxonomy={k: list_taxonomy(k) for k in KINDS}, output_label=output_label, **context)


def _chosen() -> dict[str, Any]:
    source = request.form if request.method == "POST" else request.args
    return {"output": set(source.getlist("output")), **{k: set(source.getlist(k)) for k in KINDS},
            "partner_ids": source.get("partner_ids", ""), "name": source.get("name", "")}


@bp.get("/new")
@page_required(*VENDOR)
def new(principal: Principal):
    """Step 1 and 2: the outputs and the segment, with who they reach."""
    reach = None
    if request.args.get("preview"):
        segment, outputs = _form()
        reach = segment_reach(principal, segment, outputs)
    return _builder_page(principal, reach=reach, chosen=_chosen())


@bp.get("/reach")
@page_required(*VENDOR)
def reach(principal: Principal):
    """The live count for the form as it stands (an HTML fragment the builder swaps in)."""
    try:
        segment, outputs = _form()
        found = segment_reach(principal, segment, outputs)
    except DomainError as exc:
        return page("portal/_reach.html", 422, reach=None, problems=field_errors(exc)[1])
    return page("portal/_reach.html", reach=found, problems=[])


@bp.post("/new")
@page_required(*VENDOR)
def create(principal: Principal):
    """Make the draft and go on to its review."""
    name = request.form.get("name", "").strip()
    try:
        if not name or len(name) > MAX_NAME:
            raise FormError("name", f"give the campaign a name of 1 to {MAX_NAME} characters")
        segment, outputs = _form()
        if not outputs:
            raise FormError("outputs", "pick at least one output of one template")
        segment_reach(principal, segment, outputs)  # names the field of anything it cannot use
        campaign = create_campaign(principal, name, outputs, segment)
    except DomainError as exc:
        return _builder_page(principal, 422, errors=field_errors(exc)[1] or [exc.message], chosen=_chosen())
    return redirect(url_for("portal_builder.review", campaign_id=campaign.id))


def _outputs_of(campaign: Any) -> list[dict[str, Any]]:
    return [{"template": o.template_version.template.slug, "version": o.template_version.version,
             "output": o.output, "name": o.template_version.template.name} for o in campaign.outputs]


@bp.get("/<int:campaign_id>/review")
@page_required(*VENDOR)
def review(principal: Principal, campaign_id: int):
    """Step 3: what the draft renders, for whom, who is skipped; launch now (through the contact
    sheet) or at a chosen local time."""
    return _review_page(principal, campaign_id)


def _review_page(principal: Principal, campaign_id: int, status: int = 200, errors: list[str] | None = None):
    campaign = get_campaign(principal, campaign_id)
    outputs = _outputs_of(campaign)
    found = segment_reach(principal, campaign.segment or {},
                          [{k: o[k] for k in ("template", "version", "output")} for o in outputs])
    posts = any(o["output"].startswith(POST_PREFIX) for o in outputs)
    return page("portal/builder_review.html", status, campaign=campaign, outputs=outputs, reach=found,
                posts=posts, output_label=output_label, progress=campaign_progress(principal, campaign_id),
                scheduled=scheduled_launch_of(principal, campaign_id), errors=errors or [],
                variants=_variants_of(campaign), experiments=list_experiments(principal, campaign_id),
                zone=request.form.get("time_zone", "UTC"), local_at=request.form.get("local_at", ""))


def _variants_of(campaign: Any) -> list[str]:
    """The variants the campaign's templates name (an experiment tests some of them)."""
    names: dict[str, None] = {}
    for output in campaign.outputs:
        names.update(dict.fromkeys(template_for_version(output.template_version).variants))
    return list(names)


@bp.get("/<int:campaign_id>/progress")
@page_required(*VENDOR)
def progress(principal: Principal, campaign_id: int):
    """Step 4: the renders' progress, updated in place until the campaign is done."""
    return page("portal/builder_progress.html", campaign=get_campaign(principal, campaign_id),
                progress=campaign_progress(principal, campaign_id))


@bp.get("/<int:campaign_id>/progress.json")
@page_required(*VENDOR)
def progress_json(principal: Principal, campaign_id: int):
    """The same numbers for the page's script."""
    return jsonify(campaign_progress(principal, campaign_id))


@bp.post("/<int:campaign_id>/schedule")
@page_required(*VENDOR)
def schedule(principal: Principal, campaign_id: int):
    """Launch the campaign at a local date-time in a time zone (the maintenance pass launches it)."""
    raw = request.form.get("local_at", "")
    try:
        try:
            local_at = datetime.fromisoformat(raw)
        except ValueError:
            raise FormError("local_at", f"give the launch a date and time, like 2027-03-09T10:00; not {raw!r}"
                            ) from None
        row = schedule_launch(principal, campaign_id, local_at, request.form.get("time_zone", "UTC").strip())
    except DomainError as exc:
        return _review_page(principal, campaign_id, 422, field_errors(exc)[1])
    flash(f"The campaign launches at {row.local_at.replace('T', ' ')} {row.time_zone}.")
    return redirect(url_for("portal_builder.review", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/schedule/cancel")
@page_required(*VENDOR)
def cancel_schedule(principal: Principal, campaign_id: int):
    """Cancel a launch that has not happened yet."""
    cancel_scheduled_launch(principal, campaign_id)
    flash("The scheduled launch is cancelled; nothing was launched.")
    return redirect(url_for("portal_builder.review", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/variants")
@page_required(*VENDOR)
def test_variants(principal: Principal, campaign_id: int):
    """Test the chosen variants against each other (the first is the control) as an experiment."""
    chosen = request.form.getlist("variant")
    try:
        if len(chosen) < 2:
            raise FormError("variant", "tick at least two variants to test against each other")
        try:
            values = ExperimentSchema().load({"name": f"Variants {' vs '.join(chosen)}"[:200],
                                              "metric": request.form.get("metric", "click"),
                                              "variants": [{"name": name} for name in chosen]})
        except ValidationError as exc:
            field, messages = next(iter(exc.normalized_messages().items()))
            raise FormError(field, f"{field}: {messages}") from None
        experiment = create_experiment(principal, campaign_id, values)
    except DomainError as exc:
        return _review_page(principal, campaign_id, 422, field_errors(exc)[1])
    flash(f"Partners are split between {', '.join(chosen)}; the experiment decides by {experiment.metric}s.")
    return redirect(url_for("portal_builder.review", campaign_id=campaign_id))
