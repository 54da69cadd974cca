"""The campaign email settings are cast strictly and refused with a message naming the variable."""

from __future__ import annotations

import pytest

from tcma.config import ConfigError, load_settings


def test_defaults_and_casts():
    settings = load_settings(
        {"EMAIL_SENDING_DOMAIN": "Mail.Vendor.Example.", "EMAIL_WEEKLY_CAP": "2"}, environ={}
    )
    assert (settings.email_sending_domain, settings.email_weekly_cap) == ("mail.vendor.example", 2)
    assert (settings.email_from_local, settings.email_daily_cap) == ("news", 5000)


@pytest.mark.parametrize(
    "name, value, message",
    [
        (
            "EMAIL_SENDING_DOMAIN",
            "not a domain",
            "TCMA_EMAIL_SENDING_DOMAIN must be a domain name like mail.vendor.example, got 'not a domain'",
        ),
        (
            "EMAIL_FROM_LOCAL",
            "news@x",
            "TCMA_EMAIL_FROM_LOCAL must be the part of an address before the @, like news, got 'news@x'",
        ),
        ("EMAIL_WEEKLY_CAP", "0", "TCMA_EMAIL_WEEKLY_CAP must be a whole number of at least 1, got '0'"),
    ],
)
def test_bad_values_are_refused(name, value, message):
    with pytest.raises(ConfigError) as refused:
        load_settings({name: value}, environ={})
    assert str(refused.value) == message
