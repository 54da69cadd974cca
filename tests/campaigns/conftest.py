"""Fixtures for campaign tests: the shipped catalogue and a partner profile factory."""

from __future__ import annotations

from pathlib import Path

import pytest

import campaigns
import renderers

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SAMPLES = ROOT / "assets" / "samples" / "partners"


@pytest.fixture(scope="session")
def catalogue():
    """The shipped template library."""
    return campaigns.load_catalogue(TEMPLATES)


@pytest.fixture(scope="session")
def renderer():
    """One renderer, as a batch job holds it."""
    return renderers.Renderer()


@pytest.fixture
def profile():
    """Factory for partner profiles (name and attributes overridable)."""
    logo = renderers.load_logo((SAMPLES / "acme.png").read_bytes())

    def make(name="Acme Cloud", tier="gold", vertical="healthcare", region="emea-de",
             locale="en-GB", **brand):
        kit = renderers.BrandKit(
            name, brand.get("primary", "#c83c14"), "#1d2b3a", brand.get("logo", logo),
            renderers.Contact("Jane Doe", "jane@acme.example", "+49 30 1", "https://acme.de"),
            brand.get("address", "Hauptstr. 1\n10115 Berlin"))
        return campaigns.PartnerProfile(name, "acme", tier, vertical, region, locale, kit)
    return make


@pytest.fixture
def template_dir(tmp_path):
    """Factory: a copy of a shipped template whose files a test may edit."""
    import shutil

    def make(slug: str) -> Path:
        target = tmp_path / slug
        shutil.copytree(TEMPLATES / slug, target)
        return target
    return make
