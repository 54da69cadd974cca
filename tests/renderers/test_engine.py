"""The Renderer facade: one entry point for every spec type."""

from __future__ import annotations

import pytest

import renderers


def test_a_spec_of_no_known_type_is_refused(renderer):
    with pytest.raises(renderers.RenderError) as refused:
        renderer.render(renderers.Page(()))
    assert str(refused.value) == "cannot render Page"


def test_each_spec_type_goes_to_its_renderer(renderer):
    page = renderers.Page((renderers.RectFrame("r", (0, 0, 10, 10), "#000000"),))
    brand = renderers.BrandKit("Acme")
    assert renderer.render(renderers.PdfSpec((50, 50), (page,), brand)).extension == "pdf"
    assert renderer.render(renderers.ImageSpec((50, 50), page, brand, "jpg")).extension == "jpg"
    assert renderer.render(renderers.PostSpec("x", "hi")).extension == "txt"
