"""The customize page's live preview: a picture of the fields as typed, warnings by field."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.support.factories import make_partner, make_user
from tests.support.portal import post_form, sign_in


def _preview(client, slug, fields, output=""):
    page = f"/portal/templates/{slug}"
    data = {f"fields.{name}": value for name, value in fields.items()}
    return post_form(client, page, f"{page}/preview", {**data, "output": output})


def _image(answer) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert answer["image"].startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(answer["image"][len(prefix):])))


def test_a_preview_shows_the_typed_fields_unsaved(partner_client, catalogue):
    answer = _preview(partner_client, "solution-brief", {"contact_cta": "Call Acme now"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    picture = _image(answer.json)
    assert picture.width == 480 and picture.height == round(480 * 841.89 / 595.28)
    assert answer.json["output"] == "pdf" and answer.json["errors"] == {}
    saved = partner_client.get("/portal/templates/solution-brief").get_data(as_text=True)
    assert "Call Acme now" not in saved  # a preview saves nothing


def test_required_fields_show_their_example_and_a_warning_beside_them(app, taxonomy, catalogue):
    gold = make_partner(taxonomy, tier=1)
    client = app.test_client()
    sign_in(client, make_user("partner", gold)[0])
    answer = _preview(client, "event-flyer", {"event_date": "Friday, 13 March"})
    assert answer.status_code == 200
    assert answer.json["warnings"]["venue"] == ["required: the example is shown until you fill it in"]
    assert "event_date" not in answer.json["warnings"]


def test_text_that_does_not_fit_is_warned_beside_its_field(app, taxonomy, catalogue):
    gold = make_partner(taxonomy, tier=1)
    client = app.test_client()
    sign_in(client, make_user("partner", gold)[0])
    answer = _preview(client, "event-flyer", {"event_date": "Friday", "venue": "Hall\n" * 31 + "Hall"})
    assert answer.status_code == 200
    assert answer.json["warnings"]["venue"] == [
        "text does not fit its frame at 9pt; the end was cut and marked with an ellipsis"]


def test_a_bad_value_is_named_and_no_picture_is_made(partner_client, catalogue):
    answer = _preview(partner_client, "solution-brief", {"contact_cta": "x" * 61})
    assert answer.status_code == 422 and answer.json["image"] is None
    assert answer.json["errors"] == {"contact_cta": "field 'contact_cta': is 61 characters; the limit is 60"}


def test_a_template_outside_the_partners_tier_answers_404(partner_client, catalogue):
    page = partner_client.get("/portal/templates/solution-brief").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = partner_client.post("/portal/templates/event-flyer/preview", data={"csrf_token": token})
    assert answer.status_code == 404  # silver partners may not use the flyer


def test_a_posts_only_template_has_no_picture_to_preview(partner_client, catalogue):
    answer = _preview(partner_client, "launch-posts", {})
    assert answer.status_code == 422 and answer.json["image"] is None
    assert answer.json["general"] == ["output: posts are previewed as text on the Posts page"]


def test_an_unknown_variant_is_named(partner_client, catalogue):
    page = "/portal/templates/solution-brief"
    answer = post_form(partner_client, page, f"{page}/preview", {"variant": "z"})
    assert answer.status_code == 422 and answer.json["general"] == ["variant: one of a, b"]
