"""The render job's pipeline: bookkeeping per batch not per asset, one resolution rule, a warm worker."""

from __future__ import annotations

import gc
import logging
import os

from sqlalchemy import event, select

from tcma.extensions import db
from tcma.jobs.render import render_assets
from tcma.models import Asset, BrandKit, Partner, TemplateVersion
from tcma.services.catalogue.templates import get_version, import_catalogue
from tcma.services.launch.renders import freeze_warm_objects, resolve_for, warm_renderer
from tcma.services.tracking.links import _stable_code
from tcma.storage import get_storage
from tests.support.factories import logo_png, make_partner, make_taxonomy

OUTPUTS = [("solution-brief", "pdf"), ("social-card", "jpg"), ("newsletter", "email")]


def _queued_assets(partners: list[Partner]) -> list[int]:
    """Self-served assets of the three outputs for each partner, queued (as a launch leaves them)."""
    versions = {slug: get_version(slug).id for slug, _ in OUTPUTS}
    assets = [Asset(partner_id=p.id, template_version_id=versions[slug], output=output, fields={},
                    status="queued") for p in partners for slug, output in OUTPUTS]
    db.session.add_all(assets)
    db.session.commit()
    return [a.id for a in assets]


def _statements_to_render(asset_ids: list[int]) -> int:
    """How many SQL statements the render job runs for these assets."""
    executed = []

    def count(*_args) -> None:
        executed.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        render_assets(asset_ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(executed)


def _partners(taxonomy, count: int) -> list[Partner]:
    partners = [make_partner(taxonomy) for _ in range(count)]
    for partner in partners[::2]:  # some partners read German, and give a logo for dark backgrounds
        partner.locale = "de-DE"
        partner.brand_kit.logo_dark_key = f"logos/{partner.slug}/dark.png"
        get_storage().put(partner.brand_kit.logo_dark_key, logo_png("#EEEEEE"), "image/png")
    db.session.commit()
    return partners


def test_a_chunk_costs_a_few_statements_per_batch_of_ten_not_per_asset(app):
    taxonomy = make_taxonomy()
    import_catalogue()
    _statements_to_render(_queued_assets(_partners(taxonomy, 1)))  # templates and destinations known

    three = _statements_to_render(_queued_assets(_partners(taxonomy, 1)))
    nine = _statements_to_render(_queued_assets(_partners(taxonomy, 3)))
    twenty_four = _statements_to_render(_queued_assets(_partners(taxonomy, 8)))

    # claim, rows, partners, links, stored renders, then per batch of ten its new renders and its
    # assets' results, then the completion check: 24 assets are three batches, two more than one.
    assert three == nine <= 12
    assert twenty_four == three + 4
    statuses = db.session.scalars(select(Asset.status)).all()
    assert len(statuses) == 39 and set(statuses) == {"done"}


def test_a_rendered_asset_resolves_again_to_the_key_it_was_stored_under(app):
    taxonomy = make_taxonomy()
    import_catalogue()
    asset_ids = _queued_assets(_partners(taxonomy, 4))
    render_assets(asset_ids)

    db.session.expire_all()
    for asset in db.session.scalars(select(Asset).where(Asset.id.in_(asset_ids))):
        assert asset.status == "done", asset.error
        again = resolve_for(db.session.get(Partner, asset.partner_id),
                            db.session.get(TemplateVersion, asset.template_version_id), asset.output,
                            asset.variant, asset.fields, asset.campaign_id, asset.id)
        # The batch path and the one-asset path (thumbnails, previews) are one rule, so a render
        # is found again under its content address and never made twice.
        assert again.key == asset.inputs_hash == asset.render.key


def test_a_partner_whose_logo_cannot_be_read_fails_alone_and_says_why(app):
    taxonomy = make_taxonomy()
    import_catalogue()
    good, broken = _partners(taxonomy, 2)
    kit = db.session.get(BrandKit, broken.brand_kit.id)
    get_storage().put(kit.logo_key, b"not a picture", "image/png")
    asset_ids = _queued_assets([good, broken])

    assert render_assets(asset_ids) == {"done": 3, "failed": 3, "skipped": 0}
    db.session.expire_all()
    rows = db.session.execute(select(Asset.partner_id, Asset.status, Asset.error)).all()
    assert {(p, s) for p, s, _ in rows} == {(good.id, "done"), (broken.id, "failed")}
    reasons = {e for p, _, e in rows if p == broken.id}
    assert reasons == {"LogoError: logo is not a readable image: upload an SVG, PNG, JPEG, WebP or PDF file"}


def test_the_worker_warms_every_output_of_every_template_in_each_language_without_a_failure(app, caplog):
    import_catalogue()
    with caplog.at_level(logging.WARNING):
        warmed = warm_renderer()
    # 7 templates with 13 outputs between them (2 PDFs, 2 emails, 4 images, 5 posts), each
    # drawn in English and resolved in German, French and Spanish.
    assert warmed == 52
    assert not [r for r in caplog.records if "warm-up" in r.getMessage()]


def test_a_tracked_links_code_is_the_one_its_dimensions_always_gave(app):
    # A render redone after a crash must embed the codes it had: the same URLs, the same key.
    key = {"partner_id": 7, "campaign_id": 3, "asset_id": 41, "channel": "email", "variant": "b",
           "destination_id": 2}
    assert _stable_code(key) == "ZRk2QvpVnB"


def test_a_work_horses_collections_leave_the_warm_objects_alone(app):
    import_catalogue()
    warm_renderer()
    warm = {"templates": list(gc.get_objects())[:1]}  # any container made before the freeze
    try:
        frozen = freeze_warm_objects()
        assert frozen == gc.get_freeze_count() and frozen > 10_000
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a work horse: its full collection walks none of the inherited objects
            os.write(write, b"1" if not any(o is warm for o in gc.get_objects()) else b"0")
            os._exit(0)
        os.waitpid(pid, 0)
        assert os.read(read, 1) == b"1"
        os.close(read)
        os.close(write)
    finally:
        gc.unfreeze()
    assert any(o is warm for o in gc.get_objects())  # unfrozen: collected as before
