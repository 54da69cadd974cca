"""Template texts per locale: de-DE -> de -> the template's own texts, never half and half."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import pytest

import campaigns
import renderers
from campaigns.errors import TemplateError
from campaigns.locales import fallback_chain
from campaigns.template import load_template, template_from_spec

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Required fields only the partner knows (the same in every language).
REQUIRED = {"event-flyer": {"event_date": "12.03.2027", "venue": "Hafenhaus"},
            "event-invitation": {"event_date": "12.03.2027", "venue": "Hafenhaus"}}


def _texts_of(request) -> list[str]:
    """Every text a rendered output shows (frames, email values, post text)."""
    spec = request.spec
    if hasattr(spec, "pages") or hasattr(spec, "page"):
        pages = spec.pages if hasattr(spec, "pages") else (spec.page,)
        return [f.text for p in pages for f in p.frames if hasattr(f, "text") and
                not f.name.startswith("contact")]
    if hasattr(spec, "values"):
        values = dict(spec.values)
        return [spec.subject, spec.preheader, spec.hero_alt,
                *(str(v) for k, v in values.items() if isinstance(v, str)),
                *(str(v) for v in dict(values["texts"]).values())]
    return [spec.text]


def test_the_fallback_chain_goes_from_region_to_language():
    assert fallback_chain("de-DE") == ["de-de", "de"]
    assert fallback_chain("de_AT") == ["de-at", "de"]
    assert fallback_chain("") == []


@pytest.mark.parametrize("locale, headline", [
    ("de-DE", "Patientendaten auf jedem Gerät"), ("de", "Patientendaten auf jedem Gerät"),
    ("fr-FR", "Protégez les données patients"), ("es-MX", "Proteja los datos de pacientes"),
    ("pt-BR", "Protect patient data"), ("en-US", "Protect patient data"),
])
def test_a_partner_gets_the_template_in_its_locale_or_the_default(catalogue, profile, locale,
                                                                   headline):
    request = campaigns.resolve_request(catalogue["solution-brief"], profile(locale=locale), "pdf")
    texts = _texts_of(request)
    assert any(t.startswith(headline) for t in texts)


@pytest.mark.parametrize("slug", ["social-card", "square-post", "solution-brief", "event-flyer",
                                  "event-invitation", "newsletter", "launch-posts"])
@pytest.mark.parametrize("locale", ["de-DE", "fr-FR", "es-MX"])
def test_no_output_mixes_the_default_language_into_a_translated_one(catalogue, profile, slug,
                                                                     locale):
    tpl = catalogue[slug]
    for output in tpl.outputs:
        for variant in (None, *tpl.variants):
            fields = REQUIRED.get(slug, {})
            english = _texts_of(campaigns.resolve_request(tpl, profile(locale="en"), output,
                                                          variant, fields))
            translated = _texts_of(campaigns.resolve_request(tpl, profile(locale=locale), output,
                                                             variant, fields))
            # Texts that are partner data or names stay the same; every sentence changes.
            sentences = {t for t in english if len(t.split()) >= 3 and "Acme" not in t}
            assert sentences.isdisjoint(translated), (output, variant, sentences & set(translated))


def test_the_email_subject_and_link_texts_are_translated(catalogue, profile):
    request = campaigns.resolve_request(catalogue["event-invitation"], profile(locale="de-DE"),
                                        "email", fields=REQUIRED["event-invitation"])
    assert request.spec.subject == "Sie sind eingeladen: Zero-Trust-Frühstücksbriefing"
    assert dict(dict(request.spec.values)["texts"])["register"] == "Anmelden"
    assert dict(request.spec.values)["language"] == "de"


def _copy(tmp_path, slug="social-card"):
    folder = tmp_path / slug
    shutil.copytree(TEMPLATES / slug, folder)
    return folder


def test_a_regional_file_changes_only_what_it_names(tmp_path, profile):
    folder = _copy(tmp_path)
    (folder / "locales" / "de-ch.toml").write_text(
        '[texts]\nvendor_tag = "Zero-Trust-Networking · mit {{ partner.name }} (Schweiz)"\n')
    tpl = load_template(folder)
    swiss = campaigns.resolve_request(tpl, profile(locale="de-CH"), "png")
    frames = {f.name: f for f in swiss.spec.page.frames}
    assert frames["vendor-tag"].text == "Zero-Trust-Networking · mit Acme Cloud (Schweiz)"
    assert frames["tagline"].text == "Buchen Sie Ihr Architektur-Review"  # from de


def test_an_incomplete_language_file_is_refused_naming_what_is_missing(tmp_path):
    folder = _copy(tmp_path)
    (folder / "locales" / "it.toml").write_text('[texts]\nvendor_tag = "Rete Zero Trust"\n')
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert refused.value.file.endswith("locales/it.toml")
    assert refused.value.field == "fields.tagline"
    assert "a language file must translate every text so no output mixes languages" in \
        refused.value.message


@pytest.mark.parametrize("content, field, message", [
    ('[texts]\nslogan = "x"\n', "texts.slogan", "the template has no such text"),
    ('[personalize.nope]\ndefault = "x"\n', "personalize.nope",
     "the template has no personalized slot 'nope'"),
    ('[texts]\nvendor_tag = "see https://evil.example"\n', "texts.vendor_tag",
     "contains a literal URL; use {{ links.<name> }} so it becomes a tracked link"),
    ('[colours]\nx = 1\n', "colours", "unknown key; a locale file has ['email', 'fields', "
     "'personalize', 'texts', 'variants']"),
])
def test_bad_locale_files_are_refused_with_the_place_named(tmp_path, content, field, message):
    folder = _copy(tmp_path)
    (folder / "locales" / "de-at.toml").write_text(content)  # a regional file: checked the same
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_translations_travel_with_the_stored_template_spec(catalogue, profile):
    tpl = catalogue["square-post"]
    rebuilt = template_from_spec(copy.deepcopy(tpl.to_spec()), lambda n: tpl.resources[n].data)
    request = campaigns.resolve_request(rebuilt, profile(locale="fr-FR"), "png")
    assert any(t == "Scannez pour réserver" for t in _texts_of(request))


def _white_header(tpl):
    """The template with a white email header (manifest: [email] logo_backdrop = "#ffffff")."""
    return dataclasses.replace(tpl, email_logo_backdrop="#ffffff", localized_cache={})


def test_the_email_header_shows_the_logo_variant_that_reads_on_it(catalogue, profile,
                                                                   renderer):
    # An orange logo and the white one derived for dark backgrounds, as an upload stores them;
    # the newsletter's header is the partner's navy primary colour (orange on it: 2.9:1).
    urls = {"logo_url": "https://media.example/light.png",
            "logo_dark_url": "https://media.example/dark.png"}
    partner = profile(primary="#1f2a44")
    light = partner.brand.logo
    white = renderers.logo_variants(light, None)[1]
    partner = dataclasses.replace(partner, brand=dataclasses.replace(partner.brand,
                                                                     logo_dark=white))
    both = dict(campaigns.resolve_request(catalogue["newsletter"], partner, "email",
                                          **urls).spec.values)
    assert (both["logo_url"], both["logo_plate"]) == ("https://media.example/dark.png", "")
    html = renderer.render(campaigns.resolve_request(catalogue["newsletter"], partner, "email",
                                                     **urls).spec).data.decode()
    # The rendered header is the colour the choice was made for, and shows that file.
    assert '<div style="background:#1f2a44;background-color:#1f2a44' in html
    assert '<td style=""><img src="https://media.example/dark.png"' in html
    only_light = dict(campaigns.resolve_request(catalogue["newsletter"], partner, "email",
                                                logo_url=urls["logo_url"]).spec.values)
    assert (only_light["logo_url"], only_light["logo_plate"]) == (urls["logo_url"], "#ffffff")
    html = renderer.render(campaigns.resolve_request(catalogue["newsletter"], partner, "email",
                                                     logo_url=urls["logo_url"]).spec).data.decode()
    assert ('<td style="background:#ffffff;padding:12px;border-radius:6px"><img '
            'src="https://media.example/light.png"') in html
    white_header = dict(campaigns.resolve_request(_white_header(catalogue["newsletter"]), partner,
                                                  "email", **urls).spec.values)
    assert (white_header["logo_url"], white_header["logo_plate"]) == (urls["logo_url"], "")


def test_an_email_for_a_partner_with_only_a_dark_logo_links_that_one(catalogue, profile):
    partner = profile(primary="#1f2a44")
    white = renderers.logo_variants(partner.brand.logo, None)[1]
    partner = dataclasses.replace(partner, brand=dataclasses.replace(
        partner.brand, logo=None, logo_dark=white))
    values = dict(campaigns.resolve_request(
        _white_header(catalogue["event-invitation"]), partner, "email",
        fields=REQUIRED["event-invitation"],
        logo_dark_url="https://media.example/dark.png").spec.values)
    # A white logo on the invitation's white header: the stored file on a dark plate.
    assert (values["logo_url"], values["logo_plate"]) == ("https://media.example/dark.png",
                                                          "#222222")


@pytest.mark.parametrize("name, content, field, message", [
    ("German.toml", '[texts]\nvendor_tag = "x"\n', "locale",
     "'German' is not a locale tag such as de or de-CH"),
    ("de-at.toml", '[fields.tagline]\ndefault = "x"\nlabel = "y"\n', "fields.tagline",
     "a locale file sets only a field's default (a choice field: its choices)"),
    ("de-at.toml", '[personalize.headline]\nvalues = { finance = "x" }\n', "personalize.headline",
     "needs a default text and may have values"),
    ("de-at.toml", 'texts = "x"\n', "texts", "must be a table"),
    ("de-at.toml", '[texts]\nvendor_tag = " "\n', "texts.vendor_tag", "must be non-empty text"),
])
def test_more_bad_locale_files_are_refused(tmp_path, name, content, field, message):
    folder = _copy(tmp_path)
    (folder / "locales" / name).write_text(content)
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize("addition, field, message", [
    ('language = "English!"\n', "language", "must be a language tag such as en or de"),
    ('[texts]\n"Bad Name" = "x"\n', "texts.Bad Name", "must be lowercase_name = text"),
])
def test_bad_manifest_texts_are_refused(tmp_path, addition, field, message):
    folder = _copy(tmp_path)
    manifest = (folder / "manifest.toml").read_text()
    if addition.startswith("["):
        manifest = manifest.replace("[texts]\n", addition)
    else:
        manifest = addition + manifest
    (folder / "manifest.toml").write_text(manifest)
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_layout_using_an_undeclared_text_is_refused(tmp_path):
    folder = _copy(tmp_path)
    layout = (folder / "image.toml").read_text().replace("texts.vendor_tag", "texts.slogan")
    (folder / "image.toml").write_text(layout)
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert (refused.value.field, refused.value.message) == (
        "texts", "texts used but not declared: ['slogan']")


def test_locales_in_a_stored_spec_must_be_a_table(catalogue):
    spec = copy.deepcopy(catalogue["square-post"].to_spec())
    spec["locales"] = ["de"]
    with pytest.raises(TemplateError) as refused:
        template_from_spec(spec, lambda n: catalogue["square-post"].resources[n].data)
    assert (refused.value.field, refused.value.message) == (
        "locales", "must be a table of locale tables")


def test_a_choice_is_shown_in_the_partners_language_and_stored_as_the_template_names_it(
        catalogue, profile):
    flyer = catalogue["event-flyer"]
    fields = {**REQUIRED["event-flyer"], "session_type": "Hands-on workshop"}
    german = _texts_of(campaigns.resolve_request(flyer, profile(locale="de-DE"), "pdf",
                                                 fields=fields))
    assert "Praxis-Workshop" in german and "Hands-on workshop" not in german
    default = _texts_of(campaigns.resolve_request(flyer, profile(locale="fr-FR"), "pdf",
                                                  fields=REQUIRED["event-flyer"]))
    assert "Petit-déjeuner briefing" in default and "Breakfast briefing" not in default
    english = _texts_of(campaigns.resolve_request(flyer, profile(locale="en"), "pdf",
                                                  fields=fields))
    assert "Hands-on workshop" in english


@pytest.mark.parametrize("content, field, message", [
    ('[fields.session_type]\ndefault = "Webinar"\n', "fields.session_type",
     "a locale file gives a choice field only its choices, as a list"),
    ('[fields.session_type]\nchoices = ["Frühstück", "Workshop"]\n', "fields.session_type.choices",
     "must name each of the 3 choices ['Breakfast briefing', 'Hands-on workshop', 'Webinar'] "
     "in this language, in the same order"),
    ('[fields.session_type]\nchoices = ["Frühstück", " ", "Webinar"]\n',
     "fields.session_type.choices",
     "must name each of the 3 choices ['Breakfast briefing', 'Hands-on workshop', 'Webinar'] "
     "in this language, in the same order"),
])
def test_bad_choice_translations_are_refused(tmp_path, content, field, message):
    folder = _copy(tmp_path, "event-flyer")
    (folder / "locales" / "de-at.toml").write_text(content)
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_language_file_without_the_choices_is_refused(tmp_path):
    folder = _copy(tmp_path, "event-flyer")
    german = (folder / "locales" / "de.toml").read_text()
    start = german.index("[fields.session_type]")
    end = german.index("[personalize.invite_line]")
    (folder / "locales" / "de.toml").write_text(german[:start] + german[end:])
    with pytest.raises(TemplateError) as refused:
        load_template(folder)
    assert refused.value.field == "fields.session_type.choices"
    assert refused.value.message.startswith("not translated")
