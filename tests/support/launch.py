"""Launching campaigns in tests: create one through the API, and drain the queues with rq."""

from __future__ import annotations

from rq import SimpleWorker

from tcma.queue import get_queue

OUTPUTS = [{"template": "solution-brief", "output": "pdf"},
           {"template": "social-card", "output": "png"},
           {"template": "newsletter", "output": "email"}]


def work() -> None:
    """Drain the queues with a real rq worker."""
    queue = get_queue()
    SimpleWorker(queue.all_queues(), connection=queue.redis).work(burst=True)


def launch(client, headers, segment=None) -> int:
    """Create a campaign of the three `OUTPUTS` for `segment` through the API; its id."""
    created = client.post("/api/v1/campaigns", headers=headers,
                          json={"name": "Zero trust launch", "outputs": OUTPUTS, "segment": segment or {}})
    assert created.status_code == 201, created.json
    return created.json["id"]
