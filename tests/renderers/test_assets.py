"""Process-wide render caches: least-recently-used eviction, covering crops, PDF backdrops."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import renderers
from renderers.assets import AssetCache, LruCache


def test_a_cache_computes_once_and_evicts_the_least_recently_used():
    cache, computed = LruCache(2), []

    def value(key):
        return cache.get(key, lambda: computed.append(key) or key.upper())

    assert [value("a"), value("b"), value("a")] == ["A", "B", "A"]
    assert computed == ["a", "b"]
    value("c")  # "b" was used least recently: evicted
    value("a")
    value("b")  # now "c" was: evicted
    assert computed == ["a", "b", "c", "b"]
    value("a")
    value("c")
    assert computed == ["a", "b", "c", "b", "c"]


def _picture(size, color=(200, 30, 30), left_color=None, fmt="PNG") -> renderers.Resource:
    image = Image.new("RGB", size, color)
    if left_color:
        image.paste(left_color, (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, fmt)
    return renderers.Resource(f"pic.{fmt.lower()}", out.getvalue())


@pytest.fixture
def cache():
    return AssetCache()


def test_a_cover_image_is_cropped_to_the_aspect_and_resized_exactly(cache):
    # 400 x 100, left half blue: a 100 x 100 cover keeps the centre, half blue, half red.
    picture = _picture((400, 100), left_color=(0, 0, 255))
    cover = cache.cover_image(picture, (100, 100))
    assert cover.size == (100, 100) and cover.mode == "RGB"
    assert cover.getpixel((10, 50)) == (0, 0, 255) and cover.getpixel((90, 50)) == (200, 30, 30)
    assert cache.cover_image(picture, (100, 100)) is cover


def test_a_cover_jpeg_is_a_jpeg_of_the_cover(cache):
    data = cache.cover_jpeg(_picture((300, 300), fmt="JPEG"), (60, 40))
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (60, 40))


def _page(*frames, background=None, color="#336699"):
    return renderers.Page(tuple(frames), background, color)


def test_the_backdrop_of_a_pdf_logo_is_what_lies_under_its_centre(cache):
    box = (10, 10, 20, 20)  # centre (20, 20)
    assert cache.backdrop(_page(), box, (100, 100), 0).color == (0x33, 0x66, 0x99)
    under = renderers.RectFrame("under", (0, 0, 20, 20), "#ff0000")  # its corner is the centre
    beside = renderers.RectFrame("beside", (21, 0, 20, 20), "#00ff00")
    assert cache.backdrop(_page(under, beside), box, (100, 100), 0).color == (255, 0, 0)
    later = renderers.RectFrame("later", (15, 15, 10, 10), "#0000ff")
    assert cache.backdrop(_page(under, later), box, (100, 100), 0).color == (0, 0, 255)


def test_the_backdrop_over_a_picture_is_its_mean_colour_there(cache):
    picture = _picture((400, 100), left_color=(0, 0, 255))
    frame = renderers.PictureFrame("photo", (0, 0, 400, 100), picture)
    assert cache.backdrop(_page(frame), (0, 0, 80, 100), (400, 100), 0).color == (0, 0, 255)
    assert cache.backdrop(_page(frame), (320, 0, 80, 100), (400, 100), 0).color == (200, 30, 30)


def test_the_backdrop_over_a_background_picture_counts_the_bleed(cache):
    background = _picture((120, 100), left_color=(0, 0, 255))
    page = _page(background=background)
    # The picture covers the page and 10 of bleed each side: its blue half ends at x = 50.
    assert cache.backdrop(page, (-10, 0, 40, 80), (100, 80), 10).color == (0, 0, 255)
    assert cache.backdrop(page, (60, 0, 40, 80), (100, 80), 10).color == (200, 30, 30)
