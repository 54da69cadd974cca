"""The builder's schedule step: launch at a chosen local date-time (stored in UTC), launched by the
maintenance pass exactly once through the same launch service, cancellable before then; bad input
named with nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from tcma.extensions import db
from tcma.models import Asset, Campaign, Experiment, ScheduledLaunch
from tcma.services.maintenance import run_maintenance
from tcma.services.scheduled_launches import launch_due_campaigns
from tests.support.portal import csrf_from

CARD = "social-card|png"


def draft(client, name: str = "Spring cards") -> Campaign:
    html = client.get("/portal/campaigns/new").get_data(as_text=True)
    made = client.post("/portal/campaigns/new", data={"csrf_token": csrf_from(html), "name": name,
                                                      "output": [CARD]})
    assert made.status_code == 302
    return db.session.scalar(select(Campaign).where(Campaign.name == name))


def post(client, campaign: Campaign, path: str, **form):
    html = client.get(f"/portal/campaigns/{campaign.id}/review").get_data(as_text=True)
    return client.post(f"/portal/campaigns/{campaign.id}/{path}",
                       data={"csrf_token": csrf_from(html), **form})


def make_due(campaign: Campaign) -> None:
    db.session.execute(update(ScheduledLaunch).where(ScheduledLaunch.campaign_id == campaign.id)
                       .values(launch_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()


def assets_of(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(Asset).where(Asset.campaign_id == campaign.id))


def test_a_scheduled_launch_happens_once_when_due(marketer_client, catalogue, partner):
    campaign = draft(marketer_client)
    when = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0, tzinfo=None)
    answer = post(marketer_client, campaign, "schedule", local_at=when.strftime("%Y-%m-%dT%H:%M"),
                  time_zone="Europe/Berlin")
    assert answer.status_code == 302
    row = db.session.scalar(select(ScheduledLaunch).where(ScheduledLaunch.campaign_id == campaign.id))
    assert row.launch_at == when.replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    html = marketer_client.get(f"/portal/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert f"Launches at <strong>{when:%Y-%m-%d} 09:30 Europe/Berlin</strong>" in html

    assert launch_due_campaigns() == 0  # not yet
    assert assets_of(campaign) == 0
    make_due(campaign)
    report = run_maintenance()
    assert report.launches == 1 and "launched 1 scheduled campaigns" in report.summary()
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).launched_at is not None
    assert assets_of(campaign) == 1
    assert launch_due_campaigns() == 0  # exactly once
    assert assets_of(campaign) == 1
    assert db.session.get(ScheduledLaunch, row.id).status == "launched"
    from tcma.models import LaunchReview

    review = db.session.scalar(select(LaunchReview).where(LaunchReview.campaign_id == campaign.id))
    assert (review.decision, review.via) == ("skipped", "schedule")  # no one looked at the sheet then


def test_a_waiting_launch_can_be_cancelled_and_then_never_happens(marketer_client, catalogue, partner):
    campaign = draft(marketer_client)
    when = datetime.now(UTC) + timedelta(days=1)
    post(marketer_client, campaign, "schedule", local_at=when.strftime("%Y-%m-%dT%H:%M"), time_zone="UTC")
    answer = post(marketer_client, campaign, "schedule/cancel")
    assert answer.status_code == 302
    html = marketer_client.get(answer.location).get_data(as_text=True)
    assert "The scheduled launch is cancelled; nothing was launched." in html
    make_due(campaign)
    assert launch_due_campaigns() == 0 and assets_of(campaign) == 0
    again = post(marketer_client, campaign, "schedule/cancel")
    assert again.status_code == 409
    assert "the campaign has a launch that is cancelled; only a waiting launch can be cancelled" in \
        again.get_data(as_text=True)


def test_bad_schedules_are_named_and_nothing_is_stored(marketer_client, catalogue, partner):
    campaign = draft(marketer_client)
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    cases = [({"local_at": past, "time_zone": "UTC"}, f"{past} in UTC has passed: choose a time to come"),
             ({"local_at": "2099-01-01T10:00", "time_zone": "Mars/Base"},
              "unknown time zone &#39;Mars/Base&#39;"),
             ({"local_at": "next tuesday", "time_zone": "UTC"},
              "give the launch a date and time, like 2027-03-09T10:00; not &#39;next tuesday&#39;")]
    for form, message in cases:
        answer = post(marketer_client, campaign, "schedule", **form)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True), message
    assert db.session.scalar(select(func.count()).select_from(ScheduledLaunch)) == 0


def test_a_launch_refused_when_due_is_marked_failed_with_why(marketer_client, catalogue, partner):
    campaign = draft(marketer_client)
    when = datetime.now(UTC) + timedelta(days=1)
    post(marketer_client, campaign, "schedule", local_at=when.strftime("%Y-%m-%dT%H:%M"), time_zone="UTC")
    db.session.get(Campaign, campaign.id).status = "archived"
    db.session.commit()
    make_due(campaign)
    assert launch_due_campaigns() == 0
    html = marketer_client.get(f"/portal/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert "did not happen: an archived campaign cannot be launched" in html
    assert assets_of(campaign) == 0


def test_variants_are_offered_and_tested_as_an_experiment(marketer_client, catalogue, partner):
    campaign = draft(marketer_client)  # the social card comes in variants a and b
    html = marketer_client.get(f"/portal/campaigns/{campaign.id}/review").get_data(as_text=True)
    assert 'name="variant" value="a"' in html and 'name="variant" value="b"' in html
    one = post(marketer_client, campaign, "variants", variant=["a"], metric="click")
    assert one.status_code == 422
    assert "tick at least two variants to test against each other" in one.get_data(as_text=True)
    bad = post(marketer_client, campaign, "variants", variant=["a", "b"], metric="likes")
    assert bad.status_code == 422 and "metric: [&#39;Must be one of" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0

    answer = post(marketer_client, campaign, "variants", variant=["a", "b"], metric="download")
    assert answer.status_code == 302
    experiment = db.session.scalar(select(Experiment).where(Experiment.campaign_id == campaign.id))
    assert (experiment.metric, [v.name for v in experiment.variants]) == ("download", ["a", "b"])
    html = marketer_client.get(answer.location).get_data(as_text=True)
    assert "Partners are split between a, b; the experiment decides by downloads." in html
    assert f'href="/portal/experiments/{experiment.id}">Variants a vs b</a>' in html


def test_no_variants_choice_without_variants(marketer_client, catalogue, partner):
    html = marketer_client.get("/portal/campaigns/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(html), "name": "Square", "output": ["square-post|png"]}
    made = marketer_client.post("/portal/campaigns/new", data=form)
    html = marketer_client.get(made.location).get_data(as_text=True)
    assert 'id="variants"' not in html and 'id="schedule"' in html
