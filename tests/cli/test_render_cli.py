"""tcma templates list / tcma render, driven through click's CliRunner (no database)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcma.cli.rendering import render_command, templates_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "samples" / "partners"


@pytest.fixture
def partners(tmp_path) -> Path:
    """A copy of the sample partner folder that tests may spoil."""
    folder = tmp_path / "partners"
    shutil.copytree(SAMPLES, folder)
    return folder


def test_templates_list_prints_slug_then_outputs_as_the_portal_names_them():
    result = CliRunner().invoke(templates_cli, ["list"])
    assert result.exit_code == 0
    lines = dict(line.split(" ", 1) for line in result.output.splitlines())
    assert lines["solution-brief"] == "pdf"
    assert lines["social-card"] == "png jpg"
    assert lines["newsletter"] == "email"
    assert lines["launch-posts"] == "post:linkedin post:x post:facebook post:mastodon post:bluesky"


def test_render_one_partner_pdf(partners, tmp_path):
    out = tmp_path / "brief.pdf"
    result = CliRunner().invoke(render_command, [
        "solution-brief", "--partner", str(partners / "acme.json"), "--format", "pdf",
        "--out", str(out), "--variant", "b", "--field", "contact_cta=Call Acme now"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_render_folder_in_one_process(partners, tmp_path):
    out = tmp_path / "cards"
    result = CliRunner().invoke(render_command, [
        "social-card", "--partner", str(partners), "--format", "jpg", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["acme.jpg", "northwind.jpg", "olympos.jpg"]


def test_posts_write_one_file_per_network(partners, tmp_path):
    result = CliRunner().invoke(render_command, [
        "launch-posts", "--partner", str(partners / "acme.json"), "--format", "txt",
        "--out", str(tmp_path / "acme.txt")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "acme.x.txt").read_text().count("https://") == 1
    assert len(list(tmp_path.glob("acme.*.txt"))) == 5


@pytest.mark.parametrize("spoil, message", [
    (lambda d: d.update(logo="missing.png"), "missing.png"),
    (lambda d: d.update(colors={"primary": "red"}), "primary colour"),
    (lambda d: d.update(fields={"intro": "x" * 1000}), "intro"),
    (lambda d: d.update(fields={"disclaimer": "none"}), "disclaimer"),
    (lambda d: d.update(name="n" * 300), "name"),
])
def test_bad_partner_fails_naming_it_and_writes_nothing(partners, tmp_path, spoil, message):
    data = json.loads((partners / "northwind.json").read_text())
    spoil(data)
    (partners / "northwind.json").write_text(json.dumps(data))
    out = tmp_path / "out"
    result = CliRunner().invoke(render_command, [
        "solution-brief", "--partner", str(partners), "--format", "pdf", "--out", str(out)])
    assert result.exit_code != 0
    assert "northwind.json" in result.output and message in result.output
    assert not out.exists()


def test_bad_logo_is_named(partners, tmp_path):
    (partners / "acme.png").write_bytes(b"GIF89a, not really")
    result = CliRunner().invoke(render_command, [
        "social-card", "--partner", str(partners / "acme.json"), "--format", "png",
        "--out", str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "acme.png" in result.output and "not a readable image" in \
        result.output
    assert not (tmp_path / "x.png").exists()


def test_bad_template_and_field_syntax(partners, tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(render_command, ["nope", "--partner", str(partners / "acme.json"),
                                             "--format", "pdf", "--out", str(tmp_path / "a")])
    assert unknown.exit_code != 0 and "nope" in unknown.output
    broken = tmp_path / "templates" / "broken"
    shutil.copytree(ROOT / "templates" / "solution-brief", broken)
    text = (broken / "pdf.toml").read_text().replace('kind = "qr"', 'kind = "barcode"', 1)
    (broken / "pdf.toml").write_text(text)
    result = runner.invoke(templates_cli, ["list", "--templates-dir", str(tmp_path / "templates")])
    assert result.exit_code != 0 and "pdf.toml" in result.output and "kind" in result.output
    bad_field = runner.invoke(render_command, [
        "solution-brief", "--partner", str(partners / "acme.json"), "--format", "pdf",
        "--out", str(tmp_path / "b.pdf"), "--field", "novalue"])
    assert bad_field.exit_code != 0 and not (tmp_path / "b.pdf").exists()


def test_tier_unavailable_template_is_refused(partners, tmp_path):
    result = CliRunner().invoke(render_command, [
        "event-flyer", "--partner", str(partners / "northwind.json"), "--format", "pdf",
        "--out", str(tmp_path / "f.pdf")])
    assert result.exit_code != 0 and "not available to tier 'silver'" in result.output


def test_render_help_says_what_a_partner_file_holds():
    result = CliRunner().invoke(render_command, ["--help"])
    assert "A partner file is a JSON object (samples: assets/samples/partners/)" in result.output
    for key in ('"name"', '"tier"', '"logo"', '"colors"', '"contact"', '"address"', '"fields"'):
        assert key in result.output


def test_rendered_files_follow_the_umask_not_0600(partners, tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        out = tmp_path / "brief.pdf"
        args = ["solution-brief", "--partner", str(partners / "acme.json"), "--format", "pdf",
                "--out", str(out)]
        result = CliRunner().invoke(render_command, args)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o644


def test_an_email_renders_as_a_complete_eml_with_the_logo_as_a_cid_part(partners, tmp_path):
    import email
    from email.policy import default

    out = tmp_path / "acme.eml"
    result = CliRunner().invoke(render_command, [
        "newsletter", "--partner", str(partners / "acme.json"), "--format", "eml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes(out.read_bytes(), policy=default)
    assert message["Subject"].startswith("Acme Cloud Services: ")
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "multipart/related", "text/html",
                     "image/png", "image/jpeg"]
    raw = out.read_bytes()
    assert b"example.invalid" not in raw and b"%%UNSUBSCRIBE_URL%%" in raw


def test_an_email_as_html_is_standalone_with_its_logo_inline(partners, tmp_path):
    out = tmp_path / "acme.html"
    result = CliRunner().invoke(render_command, [
        "newsletter", "--partner", str(partners / "acme.json"), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'alt="Acme Cloud Services"' in html and "data:image/png;base64," in html
    assert "cid:" not in html and "example.invalid" not in html


def test_print_renders_the_print_ready_pdf_and_only_for_pdf(partners, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "brief-print.pdf"
    result = CliRunner().invoke(render_command, [
        "solution-brief", "--partner", str(partners / "acme.json"), "--format", "pdf", "--print",
        "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "/OutputIntents" in PdfReader(out).trailer["/Root"]
    refused = CliRunner().invoke(render_command, [
        "newsletter", "--partner", str(partners / "acme.json"), "--format", "eml", "--print",
        "--out", str(tmp_path / "x.eml")])
    assert refused.exit_code == 1
    assert "--print makes the print-ready variant of a PDF: use it with --format pdf" in refused.output
    assert not (tmp_path / "x.eml").exists()
