"""Per-app state: built once at start, bounded, and no thread before the serving process asks."""

from __future__ import annotations

import threading

from tcma.state import app_state, start_background_work


def _shippers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tcma-click-shipper"]


def test_the_state_is_built_by_the_factory_and_never_grows(make_app):
    app = make_app(DATABASE_URL="sqlite://", CLICK_SHIP_INTERVAL=5)
    with app.app_context():
        state = app_state()
        assert state.settings.click_ship_interval == 5.0
        assert (state.templates.size, state.logos.size, state.destination_ids.size) == (64, 512, 4096)
        before = set(vars(state))
    client = app.test_client()
    client.get("/l/unknown-code")
    client.get("/healthz")
    with app.app_context():
        assert set(vars(app_state())) == before
        assert app_state() is state


def test_no_shipper_thread_until_the_serving_process_starts_it(make_app):
    already = len(_shippers())
    app = make_app(DATABASE_URL="sqlite://", CLICK_SHIP_INTERVAL=5)
    app.test_client().get("/l/unknown-code")
    assert len(_shippers()) == already
    start_background_work(app)
    start_background_work(app)  # once per process
    assert len(_shippers()) == already + 1


def test_the_link_cache_forgets_the_oldest_codes_not_everything():
    from tcma.clickbuffer import LinkCache

    cache = LinkCache(size=3)
    loads = []

    def load(code):
        loads.append(code)
        return None if code.startswith("x") else code.upper()

    for code in ("a", "b", "xmissing", "c"):
        cache.get(code, load)
    assert len(cache) == 3
    cache.get("c", load)
    cache.get("xmissing", load)  # an unknown code is remembered too
    assert loads == ["a", "b", "xmissing", "c"]
    cache.get("a", load)  # the oldest was forgotten, and only it
    assert loads == ["a", "b", "xmissing", "c", "a"]
