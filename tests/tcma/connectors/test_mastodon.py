"""Mastodon connector against a fake instance on loopback."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest

from tcma.connectors import Account, AuthExpired, RateLimited, Rejected, Temporary, UnknownOutcome
from tcma.connectors.mastodon import MastodonConnector, status_text
from tests.support.fake_networks import FakeMastodon, serve
from tests.tcma.connectors.conftest import SLOW, make_post

STATUSES = "/api/v1/statuses"


def test_publishes_a_text_status_and_reads_the_rate_limit(mastodon, mastodon_account, mastodon_fake):
    published = mastodon.publish(mastodon_account, make_post("Hello from Acme https://acme.test/offer"))

    [status] = mastodon_fake.statuses
    assert published.external_id == status["id"]
    assert published.url == status["url"]
    assert status["visibility"] == "public"
    limit = published.rate_limit
    assert limit.limit == 300 and limit.remaining == mastodon_fake.remaining
    assert limit.reset.tzinfo is not None and limit.reset > datetime.now(UTC)


def test_publishes_an_image_after_the_instance_has_processed_it(settings, mastodon_account):
    with serve(FakeMastodon(processing_polls=2)) as fake:
        account = Account(network="mastodon", base_url=fake.base_url, handle="@acme@fake.social",
                          credentials=dict(mastodon_account.credentials))
        connector = MastodonConnector(settings)
        try:
            connector.publish(account, make_post(image=True, alt_text="Spring banner"))
        finally:
            connector.close()
        [status] = fake.statuses
        assert status["media_attachments"][0]["description"] == "Spring banner"
        assert fake.count("/api/v2/media") == 1
        assert sum(1 for _, p in fake.calls if p.startswith("/api/v1/media/")) == 3  # 206, 206, 200


def test_media_still_processing_after_the_wait_is_temporary(settings, mastodon_account):
    with serve(FakeMastodon(processing_polls=10_000)) as fake:
        account = Account(network="mastodon", base_url=fake.base_url, handle="h",
                          credentials=dict(mastodon_account.credentials))
        connector = MastodonConnector(settings)
        try:
            with pytest.raises(Temporary, match="still processing"):
                connector.publish(account, make_post(image=True))
        finally:
            connector.close()
        assert fake.statuses == []


def test_the_same_idempotency_key_gives_the_same_status(mastodon, mastodon_account, mastodon_fake):
    first = mastodon.publish(mastodon_account, make_post(ref="p1"))
    again = mastodon.publish(mastodon_account, make_post(ref="p1"))
    other = mastodon.publish(mastodon_account, make_post(ref="p2"))

    assert again.external_id == first.external_id
    assert other.external_id != first.external_id
    assert len(mastodon_fake.statuses) == 2


def test_text_over_the_instance_limit_is_refused_before_posting(mastodon, mastodon_account, mastodon_fake):
    mastodon_fake.max_characters = 40
    with pytest.raises(Rejected, match="limit is 40"):
        mastodon.publish(mastodon_account, make_post("x" * 41))
    assert mastodon_fake.count(STATUSES) == 0


def test_an_instance_with_a_larger_limit_takes_longer_posts(settings, mastodon_account):
    with serve(FakeMastodon(max_characters=1000)) as fake:
        account = Account(network="mastodon", base_url=fake.base_url, handle="h",
                          credentials=dict(mastodon_account.credentials))
        connector = MastodonConnector(settings)
        try:
            connector.publish(account, make_post("é" * 900))
        finally:
            connector.close()
        assert len(fake.statuses) == 1


@pytest.mark.parametrize(("status", "body", "failure"), [
    (401, {"error": "The access token is invalid"}, AuthExpired),
    (403, {"error": "Your login is currently disabled"}, AuthExpired),
    (422, {"error": "Validation failed: Text can't be blank"}, Rejected),
    (422, {"error": "Cannot attach files that have not finished processing. Try again in a moment!"},
     Temporary),
    (500, {"error": "We're sorry, but something went wrong"}, Temporary),
    (503, "<html>Bad gateway</html>", Temporary),
])
def test_failures_are_classified(mastodon, mastodon_account, mastodon_fake, status, body, failure):
    mastodon_fake.fail_next(STATUSES, status, body)
    with pytest.raises(failure) as raised:
        mastodon.publish(mastodon_account, make_post())
    assert str(status) in str(raised.value)


def test_429_waits_until_the_iso_reset(mastodon, mastodon_account, mastodon_fake):
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": "2099-01-01T12:05:00.558186Z"}
    mastodon_fake.fail_next(STATUSES, 429, {"error": "Too many requests"}, headers)
    with pytest.raises(RateLimited) as raised:
        mastodon.publish(mastodon_account, make_post())
    assert raised.value.until == datetime(2099, 1, 1, 12, 5, 0, 558186, tzinfo=UTC)
    assert raised.value.rate_limit.exhausted


def test_a_slow_answer_is_an_unknown_outcome_reconciled_without_a_duplicate(
        mastodon, mastodon_account, mastodon_fake):
    post = make_post("Our spring offer\n\nSee https://acme.test/spring-offer-for-partners-2025 today")
    mastodon_fake.slow_next(STATUSES, SLOW)
    attempted = datetime.now(UTC)
    with pytest.raises(UnknownOutcome):
        mastodon.publish(mastodon_account, post)

    found = mastodon.reconcile(mastodon_account, post, since=attempted)
    assert found is not None and found.external_id == mastodon_fake.statuses[0]["id"]
    assert mastodon.publish(mastodon_account, post).external_id == found.external_id  # the key replays
    assert len(mastodon_fake.statuses) == 1


def test_reconcile_says_none_when_the_status_is_not_there(mastodon, mastodon_account, mastodon_fake):
    mastodon.publish(mastodon_account, make_post("Another post", ref="other"))
    assert mastodon.reconcile(mastodon_account, make_post("Not this one")) is None


def test_an_unreachable_instance_is_temporary(settings, mastodon_account):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    account = Account(network="mastodon", base_url=f"http://127.0.0.1:{port}", handle="h",
                      credentials=dict(mastodon_account.credentials))
    connector = MastodonConnector(settings)
    try:
        with pytest.raises(Temporary, match="could not reach"):
            connector.publish(account, make_post())
    finally:
        connector.close()


def test_verify_names_the_account(mastodon, mastodon_account):
    handle, account_id = mastodon.verify(mastodon_account)
    assert handle == "@acme@127.0.0.1" and account_id == FakeMastodon.ACCOUNT_ID


def test_verify_with_a_bad_token_is_auth_expired(mastodon, mastodon_account):
    account = Account(network="mastodon", base_url=mastodon_account.base_url, handle="h",
                      credentials={"access_token": "wrong"})
    with pytest.raises(AuthExpired):
        mastodon.verify(account)


def test_the_token_never_reaches_logs_errors_or_reprs(mastodon, mastodon_account, mastodon_fake, caplog):
    caplog.set_level(logging.DEBUG)
    token = FakeMastodon.TOKEN
    mastodon_fake.fail_next(STATUSES, 401, {"error": f"token {token} was revoked"})
    with pytest.raises(AuthExpired) as raised:
        mastodon.publish(mastodon_account, make_post(image=True))
    mastodon.publish(mastodon_account, make_post(ref="ok"))

    assert token not in str(raised.value)
    assert token not in caplog.text
    assert caplog.records, "httpx logs its requests: the check above read something"
    assert token not in repr(mastodon_account) and token not in repr(mastodon)


def test_status_text_undoes_mastodon_html():
    html = ('<p>Hi &amp; welcome<br />line two</p><p><a href="https://a.test/x"><span class="invisible">'
            'https://</span><span class="ellipsis">a.test</span><span class="invisible">/x</span></a></p>')
    assert status_text(html) == "Hi & welcome\nline two\nhttps://a.test/x"


class CookieSettingMastodon(FakeMastodon):
    """An instance that sets a session cookie on every answer and notes the Cookie header of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies_received: list[str | None] = []

    def answer(self, request):
        self.cookies_received.append(request.headers.get("Cookie"))
        response = super().answer(request)
        response.set_cookie("_mastodon_session", f"session-of-call-{len(self.cookies_received)}", path="/")
        return response


def test_a_cookie_one_accounts_answer_sets_never_goes_out_with_another_accounts_call(settings,
                                                                                      mastodon_account):
    with serve(CookieSettingMastodon()) as fake:
        first = Account(network="mastodon", base_url=fake.base_url, handle="@first@fake.social",
                        credentials=dict(mastodon_account.credentials))
        second = Account(network="mastodon", base_url=fake.base_url, handle="@second@fake.social",
                         credentials=dict(mastodon_account.credentials))
        connector = MastodonConnector(settings)  # one client for every account, as a worker keeps it
        try:
            connector.publish(first, make_post(ref="first"))
            connector.publish(second, make_post(ref="second"))
        finally:
            connector.close()
        assert len(fake.statuses) == 2
        assert len(fake.cookies_received) == 3  # the instance's rules, then two statuses
        assert fake.cookies_received == [None, None, None]
