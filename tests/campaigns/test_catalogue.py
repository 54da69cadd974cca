"""Template loading and validation: the library, error messages, spec round trip."""

from __future__ import annotations

import json

import pytest

import campaigns

EXPECTED_OUTPUTS = {
    "solution-brief": ("pdf",), "event-flyer": ("pdf",), "social-card": ("png", "jpg"),
    "square-post": ("png", "jpg"), "newsletter": ("email",), "event-invitation": ("email",),
}


def test_library_ships_every_asset_kind(catalogue):
    for slug, outputs in EXPECTED_OUTPUTS.items():
        assert catalogue[slug].outputs == outputs
    networks = {o for t in catalogue.values() for o in t.outputs if o.startswith("post:")}
    assert networks == {f"post:{n}" for n in ("linkedin", "x", "facebook", "mastodon", "bluesky")}
    assert len(catalogue["solution-brief"].pdf.pages) == 2
    assert catalogue["social-card"].image.size == (1200, 627)
    assert catalogue["square-post"].image.size == (1080, 1080)


def test_every_rule_kind_is_used(catalogue):
    used = {r.by for t in catalogue.values() for r in t.rules}
    assert used == {"tier", "vertical", "region", "locale"}
    assert any(t.variants for t in catalogue.values())
    assert any(t.tiers for t in catalogue.values()) and any(t.locked for t in catalogue.values())
    kinds = {f.type for t in catalogue.values() for f in t.fields}
    assert {"text", "multiline", "choice"} <= kinds


def test_spec_round_trips_through_json(catalogue, template_dir):
    for slug, tpl in catalogue.items():
        spec = json.loads(json.dumps(tpl.to_spec()))
        folder = template_dir(slug)
        again = campaigns.template_from_spec(spec, resources=lambda n, f=folder: (f / n)
                                             .read_bytes())
        assert again == tpl and again.to_spec() == spec


def test_spec_detects_changed_resource(catalogue):
    spec = catalogue["social-card"].to_spec()
    with pytest.raises(campaigns.TemplateError, match="does not match its sha256"):
        campaigns.template_from_spec(spec, resources=lambda name: b"other bytes")


@pytest.mark.parametrize("slug, file, old, new, field", [
    ("solution-brief", "pdf.toml", 'kind = "qr"', 'kind = "barcode"', "pages[1].frames[10].kind"),
    ("solution-brief", "pdf.toml", 'link = "landing"', 'link = "nowhere"', "pages[0].frames[11]"),
    ("solution-brief", "manifest.toml", 'by = "tier"', 'by = "shoe_size"', "personalize.offer.by"),
    ("solution-brief", "manifest.toml", "max_length = 420", "max_length = -1",
     "fields.intro.max_length"),
    ("solution-brief", "pdf.toml", "{{ headline }}", "{{ headlin }}", "pages[0].frames[4].text"),
    ("solution-brief", "pdf.toml", '"{{ disclaimer }}"', '"{{ intro }}"', "pages[1].frames[13].text"),
    ("social-card", "image.toml", "[1200, 627]", "[1200]", "canvas"),
    ("social-card", "image.toml", 'color = "secondary"', 'color = "blue"', "layers[0].color"),
    ("social-card", "image.toml", '"card-bg.jpg"', '"gone.jpg"', "canvas.background"),
    ("newsletter", "email.mjml", "{{ unsubscribe_url }}", "#", "footer"),
    ("launch-posts", "posts.toml", "{{ links.landing }}", "https://evil.example", "text"),
    ("launch-posts", "manifest.toml", 'headline = "Say', 'nothing = "Say', "variants.b.nothing"),
    ("event-flyer", "manifest.toml", 'choices = ["Breakfast', 'choices = ["Brunch',
     "fields.session_type.default"),
])
def test_errors_name_the_file_and_field(template_dir, slug, file, old, new, field):
    folder = template_dir(slug)
    text = (folder / file).read_text()
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1))
    with pytest.raises(campaigns.TemplateError) as caught:
        campaigns.load_template(folder)
    assert caught.value.file.endswith(file)
    assert field in caught.value.field


def test_toml_syntax_error_names_the_file(template_dir):
    folder = template_dir("square-post")
    (folder / "image.toml").write_text("canvas = [1080,")
    with pytest.raises(campaigns.TemplateError, match="image.toml"):
        campaigns.load_template(folder)


def test_field_validation(catalogue):
    tpl = catalogue["event-flyer"]
    given = {"event_date": "12 March, 08:30", "venue": "Dock Road 4"}
    assert tpl.validate_fields({"event_name": "  Breakfast  ", **given}) == {
        "event_name": "Breakfast", **given}
    for values, name in [({"event_name": "x" * 71}, "event_name"),
                         ({"session_type": "Party"}, "session_type"),
                         ({"event_date": "a\nb"}, "event_date"),
                         ({"disclaimer": "mine"}, "disclaimer"),
                         ({"event_name": ""}, "event_name")]:
        with pytest.raises(campaigns.FieldError) as caught:
            tpl.validate_fields({**given, **values})
        assert caught.value.field == name


def test_fields_only_the_partner_knows_are_required_and_never_defaulted(catalogue):
    for slug in ("event-flyer", "event-invitation"):
        tpl = catalogue[slug]
        assert tpl.missing_required({}) == ["event_date", "venue"]
        assert tpl.missing_required({"event_date": "12 March", "venue": " "}) == ["venue"]
        with pytest.raises(campaigns.FieldError) as caught:
            tpl.validate_fields({"event_date": "12 March"})
        assert str(caught.value) == "field 'venue': is required"
        fields = {f.name: f for f in tpl.fields}
        assert fields["venue"].default == "" and fields["venue"].example.startswith("Harbour")


def test_tier_availability(catalogue):
    flyer = catalogue["event-flyer"]
    assert flyer.available_to_tier("Gold") and not flyer.available_to_tier("silver")
    assert catalogue["solution-brief"].available_to_tier("anything")
