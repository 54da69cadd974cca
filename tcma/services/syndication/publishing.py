"""Publishing one post to one connected account now, its outcome classified for the caller.

The scheduler (syndicated campaigns) and the demo call `publish_to_account`; it goes through the
app's shared rate limiter, and credentials the network refuses for good turn the account
`needs_reconnect` (its scheduled posts are held) instead of failing post after post.
"""

from __future__ import annotations

from dataclasses import dataclass

from tcma.connectors import (
    AuthExpired,
    Post,
    Published,
    RateLimited,
    Rejected,
    idempotency_key,
)
from tcma.errors import ConflictError, InvalidInput, ServiceUnavailable
from tcma.models import SocialAccount
from tcma.services.syndication.accounts import mark_needs_reconnect, opened
from tcma.services.transaction import commit
from tcma.state import app_state


@dataclass(frozen=True)
class Outgoing:
    """What to publish: the text, an optional image, and the reference that keeps it to once."""

    text: str
    ref: str  # stable per post: the same ref to the same account never publishes twice
    image: bytes | None = None
    image_type: str | None = None
    alt_text: str = ""


def publish_to_account(row: SocialAccount, outgoing: Outgoing) -> Published:
    """Publish `outgoing` to the account, or raise a DomainError naming why not (and commit a needed
    reconnect). Temporary and UnknownOutcome propagate for the scheduler to retry or reconcile."""
    if row.state != "active":
        raise ConflictError(f"the {row.network} account {row.handle} is "
                            f"{'paused' if row.state == 'paused' else 'waiting to be connected again'}")
    post = Post(text=outgoing.text, idempotency_key=idempotency_key(outgoing.ref, row.id),
                image=outgoing.image, image_type=outgoing.image_type, alt_text=outgoing.alt_text)
    connector = app_state().connector(row.network)
    try:
        return connector.publish(opened(row), post)
    except AuthExpired as exc:
        mark_needs_reconnect(row, f"{row.network} refused the credentials: {exc.reason}")
        commit()
        raise ConflictError(f"the {row.network} account {row.handle} must be connected again: "
                            f"{exc.reason}") from None
    except Rejected as exc:
        raise InvalidInput(f"{row.network} refused the post: {exc.reason}",
                           {"text": [exc.reason]}) from None
    except RateLimited as exc:
        raise ServiceUnavailable(f"{row.network} asks to wait: {exc.reason}") from None
    finally:
        connector.close()
