"""Keeping connected accounts' tokens alive: refreshed ahead of expiry, flagged when they cannot be.

The maintenance pass calls `refresh_due_tokens`: every active account whose access token ends
within REFRESH_AHEAD is refreshed with the network (X rotates its refresh token: the new one is
stored in the same commit). A refusal (revoked, expired beyond refresh, a network without refresh)
turns the account `needs_reconnect` and holds its posts; an unreachable network is tried again on
the next pass (the consent still holds: only the network can say it does not).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from tcma.connectors import AuthExpired, ConnectorError, Rejected, Unsupported
from tcma.connectors.oauth import OAUTH_NETWORKS, build_oauth_flow
from tcma.extensions import db
from tcma.models import SocialAccount
from tcma.models.base import utcnow
from tcma.services.syndication.accounts import mark_needs_reconnect, opened
from tcma.services.syndication.oauth import apply_grant
from tcma.services.transaction import commit, rollback
from tcma.state import app_state

REFRESH_AHEAD = timedelta(minutes=30)
log = logging.getLogger(__name__)


@dataclass
class RefreshReport:
    """What one refresh pass did, by account id."""

    refreshed: list[int] = field(default_factory=list)
    needs_reconnect: list[int] = field(default_factory=list)
    retry_later: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (f"refreshed {len(self.refreshed)} tokens, {len(self.needs_reconnect)} accounts need "
                f"reconnecting, {len(self.retry_later)} to retry")


def refresh_due_tokens(now: datetime | None = None) -> RefreshReport:
    """Refresh every connected account whose token ends within REFRESH_AHEAD of `now`."""
    now = now or utcnow()
    report = RefreshReport()
    ids = list(db.session.scalars(select(SocialAccount.id).where(
        SocialAccount.network.in_(OAUTH_NETWORKS), SocialAccount.needs_reconnect_since.is_(None),
        SocialAccount.token_expires_at.is_not(None), SocialAccount.token_expires_at <= now + REFRESH_AHEAD,
    ).order_by(SocialAccount.token_expires_at)))
    for account_id in ids:
        try:
            outcome = refresh_account(account_id, now)
        except Exception:  # one account's failure must not stop the others
            rollback()
            log.exception("refreshing social account %s failed", account_id)
            outcome = "retry_later"
        getattr(report, outcome).append(account_id)
    return report


def refresh_account(account_id: int, now: datetime | None = None) -> str:
    """Refresh one account's token (locked, so two passes never spend one rotating refresh token).

    Answers "refreshed", "needs_reconnect" or "retry_later"; commits.
    """
    now = now or utcnow()
    row = db.session.scalars(select(SocialAccount).where(SocialAccount.id == account_id)
                             .with_for_update()).first()
    if row is None or row.needs_reconnect_since is not None or row.token_expires_at is None \
            or row.token_expires_at > now + REFRESH_AHEAD:
        rollback()  # another pass got there first
        return "refreshed"
    flow = build_oauth_flow(row.network, app_state().connectors)
    try:
        grant = flow.refresh(opened(row))
    except (AuthExpired, Rejected, Unsupported) as exc:
        mark_needs_reconnect(row, f"{row.network} would not renew the connection: {exc.reason}")
        commit()
        return "needs_reconnect"
    except ConnectorError as exc:  # unreachable or rate limited: the consent still holds
        rollback()
        log.warning("%s account %s: refresh failed for now (%s); next pass retries", row.network,
                    account_id, exc.reason)
        return "retry_later"
    finally:
        flow.close()
    apply_grant(row, grant)
    commit()
    return "refreshed"
