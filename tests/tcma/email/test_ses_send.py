"""A partner's send through Amazon SES (moto's server on loopback): the same headers, one raw message each."""

from __future__ import annotations

import email
import email.policy
import json
import urllib.request

import boto3
import pytest

from tests.support.apps import app_on, base_config
from tests.tcma.email.conftest import new_send, send_now


@pytest.fixture
def app(migrated_pg, tmp_path, s3_endpoint):
    admin = boto3.client(
        "sesv2",
        region_name="eu-west-1",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    admin.create_email_identity(EmailIdentity="mail.vendor.test")
    admin.close()
    url, tables = migrated_pg
    config = base_config(
        tmp_path,
        DATABASE_URL=url,
        MAIL_BACKEND="ses",
        SES_REGION="eu-west-1",
        SES_ENDPOINT_URL=s3_endpoint,
        SES_ACCESS_KEY_ID="testing",
        SES_SECRET_ACCESS_KEY="testing",
        MAIL_FROM="tcma <no-reply@mail.vendor.test>",
        EMAIL_SENDING_DOMAIN="mail.vendor.test",
    )
    yield from app_on(config, tables)


def test_a_send_goes_out_through_ses(client, shop, s3_endpoint):
    send = new_send(client, shop)
    done = send_now(client, shop, send["id"])
    assert done["numbers"]["sent"] == 3
    with urllib.request.urlopen(f"{s3_endpoint}/moto-api/data.json") as response:
        recorded = json.load(response)["ses"]["RawMessage"]
    ours = [
        email.message_from_string(m["raw_data"], policy=email.policy.default)
        for m in recorded
        if "List-Unsubscribe-Post" in m["raw_data"]
    ]
    assert sorted(str(m["To"]) for m in ours) == ["ada@example.com", "bob@example.com", "cy@example.com"]
    for message in ours:
        assert message["From"] == "Acme IT GmbH <news@mail.vendor.test>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http://tcma.test/u/")
