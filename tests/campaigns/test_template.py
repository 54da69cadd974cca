"""Templates from a spec: manifest keys, links, outputs and cross-checks, each error named."""

from __future__ import annotations

import copy
import shutil

import pytest

import campaigns
from campaigns.texts import check_no_bare_urls, check_text, render_text

SPEC = {
    "format": 1, "slug": "launch",
    "manifest": {"name": "Launch", "description": "Posts for the launch", "outputs": ["post:x"],
                 "links": {"landing": "https://vendor.example.com/launch"},
                 "fields": {"comment": {"max_length": 50}},
                 "personalize": {"headline": {"by": "tier", "default": "New"}},
                 "tiers": ["Gold", "platinum"]},
    "posts": {"x": {"text": "{{ headline }} {{ comment }} {{ links.landing }}"}},
    "resources": {},
}


def build(change=None) -> campaigns.Template:
    spec = copy.deepcopy(SPEC)
    if change:
        change(spec)
    return campaigns.template_from_spec(spec, lambda name: b"")


def refusal(change) -> tuple[str, str, str]:
    with pytest.raises(campaigns.TemplateError) as refused:
        build(change)
    return refused.value.file, refused.value.field, refused.value.message


def test_a_spec_builds_a_template():
    tpl = build()
    assert (tpl.slug, tpl.name, tpl.description, tpl.outputs) == (
        "launch", "Launch", "Posts for the launch", ("post:x",))
    assert tpl.links == (("landing", "https://vendor.example.com/launch"),)
    assert tpl.tiers == ("gold", "platinum") and tpl.locked == ()
    assert tpl.posts == (("x", "{{ headline }} {{ comment }} {{ links.landing }}"),)
    assert [f.name for f in tpl.fields] == ["comment"] and [r.name for r in tpl.rules] == ["headline"]


@pytest.mark.parametrize(("tier", "allowed"), [("gold", True), ("Gold", True), ("platinum", True),
                                               ("registered", False), ("", False)])
def test_tiers_limit_who_may_use_a_template(tier, allowed):
    assert build().available_to_tier(tier) is allowed


def test_a_template_without_tiers_is_for_everyone():
    assert build(lambda s: s["manifest"].pop("tiers")).available_to_tier("registered") is True


def test_partner_values_are_checked_against_the_fields():
    assert build().validate_fields({"comment": " Hi "}) == {"comment": "Hi"}
    with pytest.raises(campaigns.FieldError, match="is 51 characters; the limit is 50"):
        build().validate_fields({"comment": "c" * 51})


def test_the_spec_format_must_be_known():
    for spec in ({**SPEC, "format": 2}, {k: v for k, v in SPEC.items() if k != "format"}, []):
        with pytest.raises(campaigns.TemplateError) as refused:
            campaigns.template_from_spec(spec, lambda name: b"")
        assert str(refused.value) == "spec: format: must be 1"


def _set(section, **values):
    return lambda s: s[section].update(values)


def _manifest(**values):
    return lambda s: s["manifest"].update(values)


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda s: s.update(slug="Launch!"), "slug", "must be lowercase letters, digits, '-'"),
    (lambda s: s.update(slug="-launch"), "slug", "must be lowercase letters, digits, '-'"),
    (lambda s: s.update(manifest=[]), "manifest", "must be a table"),
    (_manifest(titel="x"), "titel", "unknown key"),
    (_manifest(name=" "), "name", "must be non-empty text"),
    (_manifest(description=3), "description", "must be non-empty text"),
    (_manifest(tiers="gold"), "tiers", "must be a list of names"),
    (_manifest(locked=[1]), "locked", "must be a list of names"),
    (_manifest(links=["https://a.example"]), "links", "must be a table of name = URL"),
    (_manifest(links={"landing": "ftp://a.example/x"}), "links.landing", "must be an http(s) URL"),
    (_manifest(links={"landing": "https://a.example/x y"}), "links.landing",
     "must be an http(s) URL"),
    (_manifest(fields=[]), "fields", "must be a table"),
    (_manifest(personalize=[]), "personalize", "must be a table"),
    (_manifest(personalize={"comment": {"by": "tier", "default": "d"}}), "personalize.comment",
     "is also an editable field"),
    (_manifest(outputs=[]), "outputs", "must list distinct outputs"),
    (_manifest(outputs=["post:x", "post:x"]), "outputs", "must list distinct outputs"),
    (_manifest(outputs="post:x"), "outputs", "must list distinct outputs"),
    (_manifest(outputs=["post:myspace"]), "outputs",
     "unknown output 'post:myspace' (pdf, png, jpg, email, post:<network>)"),
    (_manifest(outputs=["gif"]), "outputs", "unknown output 'gif' (pdf, png, jpg, email, post:<network>)"),
    (_manifest(locked=["headline"]), "locked", "no frames named ['headline']"),
])
def test_a_bad_manifest_is_refused_naming_the_key(change, field, message):
    assert refusal(change) == ("spec:manifest", field, message)


@pytest.mark.parametrize(("change", "file", "field", "message"), [
    (_manifest(outputs=["post:x", "post:bluesky"]), "spec:posts", "bluesky.text",
     "post text is missing"),
    (_manifest(outputs=["pdf"]), "spec:pdf", "pdf", "output listed but its definition is missing"),
    (_manifest(outputs=["png"]), "spec:image", "png", "output listed but its definition is missing"),
    (_manifest(outputs=["email"]), "spec:mjml", "email",
     "output listed but its definition is missing"),
    (lambda s: s["posts"]["x"].update(text="{{ headlin }}"), "spec:posts", "x.text",
     "uses unknown names ['headlin']"),
    (lambda s: s["posts"]["x"].update(text="{{ headline "), "spec:posts", "x.text",
     "template error line 1: unexpected end of template, expected 'end of print statement'."),
    (lambda s: s["posts"]["x"].update(text="See https://vendor.example.com"), "spec:posts",
     "x.text", "contains a literal URL; use {{ links.<name> }} so it becomes a tracked link"),
    (lambda s: s["posts"]["x"].update(text="{{ links.signup }}"), "spec:posts", "x.text",
     "uses undeclared link destinations ['signup']"),
])
def test_a_bad_output_definition_is_refused_naming_its_file(change, file, field, message):
    assert refusal(change) == (file, field, message)


def test_texts_render_values_as_data():
    assert render_text("Hi {{ name }}", {"name": "{{ 7*7 }}"}) == "Hi {{ 7*7 }}"
    assert render_text("Plain text keeps its last line break\n", {}) == (
        "Plain text keeps its last line break\n")


def test_a_failing_text_names_itself():
    with pytest.raises(campaigns.RequestError) as refused:
        render_text("{{ 1 / 0 }}", {})
    assert str(refused.value) == ("the template text '{{ 1 / 0 }}' failed: ZeroDivisionError: "
                                  "division by zero")


def test_check_text_returns_the_links_used_in_either_spelling():
    names = frozenset({"links"})
    assert check_text("{{ links.a }} {{ links['b'] }} {{ links [ \"c\" ] }}", names, "f", "w") == {
        "a", "b", "c"}
    check_no_bare_urls("{{ links.a }}", "f", "w")
    with pytest.raises(campaigns.TemplateError, match="contains a literal URL"):
        check_no_bare_urls("see http://a", "f", "w")


def test_optional_manifest_tables_default_to_empty():
    def bare(spec):
        spec["manifest"] = {"name": "Hello", "description": "A plain post", "outputs": ["post:x"]}
        spec["posts"]["x"]["text"] = "Hello from {{ partner.name }}"
    tpl = build(bare)
    assert (tpl.links, tpl.fields, tpl.rules, tpl.tiers, tpl.locked, tpl.variants) == (
        (), (), (), (), (), ())
    assert tpl.pdf is None and tpl.image is None and tpl.email is None


def test_a_listed_post_needs_its_text():
    assert refusal(lambda s: s.pop("posts")) == ("spec:posts", "x.text", "post text is missing")


def test_a_spec_is_a_copy_the_caller_may_change():
    tpl = build()
    spec = tpl.to_spec()
    spec["manifest"]["links"]["landing"] = "https://elsewhere.example"
    assert tpl.to_spec()["manifest"]["links"]["landing"] == "https://vendor.example.com/launch"
    assert tpl.to_spec()["resources"] == {}


def test_a_template_folder_needs_a_manifest(tmp_path):
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.load_template(tmp_path)
    assert (refused.value.file, refused.value.field, refused.value.message) == (
        str(tmp_path / "manifest.toml"), "manifest", "file is missing")


def test_a_toml_syntax_error_names_the_file_and_line(template_dir):
    folder = template_dir("launch-posts")
    (folder / "posts.toml").write_text('[x]\ntext = "unterminated\n', encoding="utf-8")
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.load_template(folder)
    assert (refused.value.file, refused.value.field) == (str(folder / "posts.toml"), "syntax")
    assert "line 2" in refused.value.message


def test_an_email_without_a_text_file_gets_its_text_part_from_the_html(template_dir):
    folder = template_dir("newsletter")
    assert not (folder / "email.txt").exists()
    assert campaigns.load_template(folder).email[1] == ""
    (folder / "email.txt").write_text("Hello {{ partner.name }}", encoding="utf-8")
    with pytest.raises(campaigns.TemplateError) as refused:  # a text of its own needs the footer
        campaigns.load_template(folder)
    assert (refused.value.file, refused.value.field) == (str(folder / "email.txt"), "footer")


def test_the_catalogue_is_every_visible_template_folder(tmp_path, template_dir):
    source = template_dir("launch-posts")
    root = tmp_path / "library"
    root.mkdir()
    for name in ("launch-posts", "_draft", ".hidden"):
        shutil.copytree(source, root / name)
    (root / "README.md").write_text("not a template", encoding="utf-8")
    assert list(campaigns.load_catalogue(root)) == ["launch-posts"]
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.load_catalogue(tmp_path / "missing")
    assert str(refused.value) == f"{tmp_path / 'missing'}: folder: templates folder does not exist"


@pytest.fixture(scope="module")
def card(catalogue):
    return catalogue["social-card"]


def test_resources_in_a_spec_must_match_their_hashes(card):
    data = {name: r.data for name, r in card.resources.items()}
    spec = card.to_spec()
    name = next(iter(spec["resources"]))
    assert campaigns.template_from_spec(spec, data.__getitem__).resources[name].data == data[name]
    spec["resources"][name] = "0" * 64
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.template_from_spec(spec, data.__getitem__)
    assert refused.value.file == "spec:image"
    assert refused.value.message == f"resource {name!r} does not match its sha256"


@pytest.mark.parametrize(("name", "message"), [
    ("../secret.jpg", "bad resource name '../secret.jpg'"),
    ("missing.jpg", "resource 'missing.jpg' not found ('missing.jpg')"),
])
def test_a_resource_must_be_a_plain_name_that_exists(card, name, message):
    data = {n: r.data for n, r in card.resources.items()}
    spec = card.to_spec()
    spec["image"]["background"] = name
    with pytest.raises(campaigns.TemplateError) as refused:
        campaigns.template_from_spec(spec, data.__getitem__)
    assert (refused.value.file, refused.value.field, refused.value.message) == (
        "spec:image", "canvas.background", message)
