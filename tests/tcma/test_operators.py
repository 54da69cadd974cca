"""What an operator runs ends with a clear message, not a traceback."""

from __future__ import annotations

from tests.support.redis_db import redis_url


def test_events_flush_and_pending_with_redis_unreachable_say_so(make_app, migrated_pg):
    app = make_app(DATABASE_URL=migrated_pg[0], REDIS_URL="redis://127.0.0.1:1/0")
    runner = app.test_cli_runner()
    flushed = runner.invoke(args=["events", "flush", "--wait", "0"])
    assert flushed.exit_code == 1
    assert "Error: Redis is unreachable (" in flushed.output
    assert "buffered events stay in Redis and the spool until it is back" in flushed.output
    pending = runner.invoke(args=["events", "pending"])
    assert pending.exit_code == 1 and "Error: Redis is unreachable (" in pending.output
    assert "Traceback" not in flushed.output + pending.output


def test_the_demo_with_redis_says_the_renders_wait_for_a_worker(make_app, tmp_path, redis_client):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/demo.db", REDIS_URL=redis_url())
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["demo", "--partners", "2"])
    assert result.exit_code == 0, result.output
    assert "No tracked links to click yet: the renders wait for a worker" in result.output
    assert "sign in as admin         admin@demo.tcma.test / demo-password" in result.output


def test_tcma_run_warns_when_the_public_url_is_not_where_it_serves(make_app, capsys):
    from tcma.cli import _warn_if_public_url_differs

    app = make_app(DATABASE_URL="sqlite://", PUBLIC_URL="http://127.0.0.1:5000")
    _warn_if_public_url_differs(app, "127.0.0.1", 5000)
    assert capsys.readouterr().err == ""
    _warn_if_public_url_differs(app, "0.0.0.0", 8080)
    assert capsys.readouterr().err == (
        "warning: TCMA_PUBLIC_URL is http://127.0.0.1:5000 but this server listens on 0.0.0.0:8080; "
        "tracked links, QR codes, email links and downloads will point at TCMA_PUBLIC_URL (set it to "
        "where people reach this server)\n")
