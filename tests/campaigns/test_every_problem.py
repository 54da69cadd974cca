"""A template with several problems is refused naming every one by file and field, in one pass;
checks that read another part's names wait for that part, so no problem is reported twice."""

from __future__ import annotations

from pathlib import Path

import pytest

import campaigns


def problems(folder: Path) -> list[tuple[str, str, str]]:
    """Every problem load_template reports, as (file relative to the folder, field, message)."""
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.load_template(folder)
    return [(str(Path(e.file).relative_to(folder)), e.field, e.message) for e in refused.value.errors]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1))


KNOWN_FRAME_KEYS = ("known: ['align', 'box', 'color', 'font', 'kind', 'leading', 'link', 'min_size', "
                    "'name', 'padding', 'picture', 'plate', 'plate_color', 'size', 'text', 'valign']")


def test_problems_in_three_files_are_reported_together(template_dir):
    folder = template_dir("social-card")
    edit(folder / "manifest.toml", 'locked = ["vendor-tag"]', 'locked = ["vendor-tag"]\ntiers = "gold"')
    edit(folder / "image.toml", "  padding = 10\n", '  padding = 10\n  colour = "red"\n')
    (folder / "card-bg.jpg").unlink()
    edit(folder / "locales" / "de.toml", '[variants.b]\ntagline = "In 30 Minuten live erleben"\n', "")
    assert problems(folder) == [
        ("manifest.toml", "tiers", "must be a list of names"),
        ("image.toml", "canvas.background", "resource 'card-bg.jpg' not found (No such file or directory)"),
        ("image.toml", "canvas.layers[1]", f"unknown keys ['colour'] (did you mean 'color'?); "
            f"{KNOWN_FRAME_KEYS}"),
        ("locales/de.toml", "variants.b.tagline",
         "not translated; a language file must translate every text so no output mixes languages"),
    ]


def test_several_problems_are_one_template_error_that_lists_them_all(template_dir):
    folder = template_dir("social-card")
    edit(folder / "manifest.toml", 'locked = ["vendor-tag"]', 'locked = ["vendor-tag"]\ntiers = "gold"')
    (folder / "card-bg.jpg").unlink()
    with pytest.raises(campaigns.TemplateErrors) as refused:
        campaigns.load_template(folder)
    error = refused.value
    assert isinstance(error, campaigns.TemplateError)  # `except TemplateError` still catches it
    assert (error.file, error.field, error.message) == (
        str(folder / "manifest.toml"), "tiers", "must be a list of names")  # the first problem
    assert str(error) == (
        f"2 problems:\n- {folder}/manifest.toml: tiers: must be a list of names\n"
        f"- {folder}/image.toml: canvas.background: resource 'card-bg.jpg' not found "
        "(No such file or directory)")


def test_a_single_problem_is_raised_as_it_always_was(template_dir):
    folder = template_dir("social-card")
    edit(folder / "manifest.toml", 'locked = ["vendor-tag"]', 'locked = ["vendor-tag"]\ntiers = "gold"')
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.load_template(folder)
    assert type(refused.value) is campaigns.TemplateError
    assert str(refused.value) == f"{folder}/manifest.toml: tiers: must be a list of names"


def test_every_frame_and_every_manifest_entry_is_checked(template_dir):
    folder = template_dir("social-card")
    edit(folder / "manifest.toml", 'landing = "https://', 'landing = "ftp://')
    edit(folder / "manifest.toml", 'name = "Social card 1200x627"', "name = 7")
    edit(folder / "image.toml", "  size = 64\n", "  size = 640\n")
    edit(folder / "image.toml", 'kind = "qr"', 'kind = "barcode"')
    assert problems(folder) == [
        ("manifest.toml", "name", "must be non-empty text"),
        ("manifest.toml", "links.landing", "must be an http(s) URL"),
        ("image.toml", "canvas.layers[2].size", "must be a number from 1 to 400"),
        ("image.toml", "canvas.layers[4].kind",
         "must be one of ('text', 'contact', 'rect', 'logo', 'qr', 'picture')"),
    ]


def test_a_refused_field_does_not_make_its_uses_unknown(template_dir):
    # The layout, the variants and every locale use {{ tagline }}: they wait for its definition.
    folder = template_dir("social-card")
    edit(folder / "manifest.toml", 'type = "text"', 'type = "texty"')
    assert problems(folder) == [
        ("manifest.toml", "fields.tagline.type",
         "must be one of ('text', 'multiline', 'choice', 'email', 'phone')")]


def test_an_unreadable_output_file_is_named_once_and_the_rest_still_checked(template_dir):
    folder = template_dir("social-card")
    (folder / "image.toml").write_text("canvas = [1200,")
    edit(folder / "locales" / "fr.toml", "[texts]", '[texts]\nslogan = "Un slogan"')
    found = problems(folder)
    assert [(file, field) for file, field, _ in found] == [
        ("image.toml", "syntax"), ("locales/fr.toml", "texts.slogan")]
    assert found[1][2] == "the template has no such text"


def test_a_regional_file_is_not_called_incomplete_when_its_language_file_is_refused(template_dir):
    folder = template_dir("social-card")
    edit(folder / "locales" / "de.toml", '[texts]', '[texts]\nslogan = "Ein Slogan"')
    (folder / "locales" / "de-ch.toml").write_text('[texts]\nvendor_tag = "Zero Trust (Schweiz)"\n')
    assert problems(folder) == [("locales/de.toml", "texts.slogan", "the template has no such text")]


def test_every_wrong_entry_of_a_locale_file_is_named(template_dir):
    folder = template_dir("social-card")
    edit(folder / "locales" / "es.toml", "[texts]", '[texts]\nslogan = "x"\nmotto = "y"')
    edit(folder / "locales" / "es.toml", "[variants.a]", "[variants.c]\ntagline = \"z\"\n\n[variants.a]")
    assert problems(folder) == [
        ("locales/es.toml", "texts.motto", "the template has no such text"),
        ("locales/es.toml", "texts.slogan", "the template has no such text"),
        ("locales/es.toml", "variants.c", "the template has no such text"),
    ]


def test_a_locale_texts_problem_names_its_own_file(template_dir):
    folder = template_dir("social-card")
    edit(folder / "locales" / "de.toml", 'vendor_tag = "Zero-Trust-Networking', 'vendor_tag = "{{ nope }}')
    assert problems(folder) == [("locales/de.toml", "texts.vendor_tag", "uses unknown names ['nope']")]


def test_an_email_part_that_is_not_utf8_is_named(template_dir):
    folder = template_dir("newsletter")
    (folder / "email.mjml").write_bytes("<mjml>Grüße</mjml>".encode("latin-1"))
    assert problems(folder) == [("email.mjml", "encoding", "is not UTF-8 text (invalid start byte)")]


def test_a_stored_spec_reports_every_problem_too(catalogue):
    spec = catalogue["launch-posts"].to_spec()
    spec["manifest"]["tiers"] = "gold"
    spec["posts"]["x"]["text"] = "{{ nope }}"
    spec["posts"]["facebook"]["text"] = "see https://example.com"
    with pytest.raises(campaigns.TemplateErrors) as refused:
        campaigns.template_from_spec(spec, lambda name: b"")
    assert [(e.file, e.field, e.message) for e in refused.value.errors] == [
        ("spec:manifest", "tiers", "must be a list of names"),
        ("spec:posts", "x.text", "uses unknown names ['nope']"),
        ("spec:posts", "facebook.text",
         "contains a literal URL; use {{ links.<name> }} so it becomes a tracked link"),
    ]
