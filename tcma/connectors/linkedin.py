"""LinkedIn: the versioned Posts API (/rest/posts) as a member or an organization page; images too.

Every /rest call carries `Linkedin-Version` (TCMA_CONNECTORS_LINKEDIN_VERSION; LinkedIn retires each
monthly version after a year and then answers 426) and `X-Restli-Protocol-Version: 2.0.0`. The post's
text goes out in LinkedIn's "little text" format, its reserved characters escaped: unescaped, LinkedIn
cuts the text at the first of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from . import (
    Account,
    AuthExpired,
    Clock,
    ConnectorSettings,
    Post,
    PostMetrics,
    Published,
    RateLimited,
    RateLimitState,
    RecentPost,
    Rejected,
    Temporary,
    UnknownOutcome,
    Unsupported,
    check_image,
    check_text,
    find_published,
    utc_now,
)
from .transport import body_json, clip, make_client, next_utc_midnight, retry_after, send, short_body

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # LinkedIn documents pixels (under 36 MP), not bytes: a cap of ours
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
PROTOCOL_VERSION = "2.0.0"
POSTING_ROLES = ("ADMINISTRATOR", "CONTENT_ADMINISTRATOR")  # organization roles that may post as the page
AUTHOR = re.compile(r"urn:li:(person|organization):([A-Za-z0-9_-]+)")
POST_URN = re.compile(r"urn:li:(share|ugcPost):[0-9]+")
RESERVED = frozenset("\\|{}@[]()<>#*_~")  # the little text format's reserved characters
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class Organization:
    """An organization page the member may post for."""

    urn: str
    name: str
    vanity_name: str | None = None


def little_text(text: str) -> str:
    """`text` for a post's commentary: every reserved character escaped with a backslash."""
    return "".join(f"\\{char}" if char in RESERVED else char for char in text)


def plain_text(commentary: str) -> str:
    """A commentary read back from LinkedIn as plain text (escapes undone)."""
    return _ESCAPED.sub(r"\1", commentary)


def post_url(urn: str) -> str:
    """The public address of a post (a share or ugcPost URN)."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


def author_urn(account: Account) -> str:
    """The URN the account posts as: credentials["author"], else its external_id."""
    for candidate in (account.credentials.get("author"), account.external_id):
        if isinstance(candidate, str) and AUTHOR.fullmatch(candidate):
            return candidate
    raise AuthExpired("linkedin account has no author URN (urn:li:person:... or urn:li:organization:...)")


class LinkedInConnector:
    """Publishes posts with a member's OAuth token (credentials: access_token, author).

    LinkedIn sends no rate-limit headers; its quotas are daily and start again at midnight UTC.
    """

    network = "linkedin"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.client = make_client(settings)
        self.api = settings.linkedin_api_url.rstrip("/")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def publish(self, account: Account, post: Post) -> Published:
        """Upload the image (if any), then create the post; its URN comes back in x-restli-id."""
        check_text(self.network, post.text)
        check_image(self.network, post, MAX_IMAGE_BYTES, IMAGE_TYPES)
        author = author_urn(account)
        body: dict[str, Any] = {
            "author": author, "commentary": little_text(post.text), "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        if post.image is not None:
            media = {"id": self._upload(account, author, post)}
            body["content"] = {"media": {**media, "altText": post.alt_text} if post.alt_text else media}
        response = self._call(account, "POST", "/rest/posts", write=True, accept=(201,), json=body)
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise UnknownOutcome("linkedin answered 201 without x-restli-id: the post may exist")
        return Published(urn, post_url(urn))

    def verify(self, account: Account) -> tuple[str, str]:
        """(name, author URN) of the member or organization the account posts as."""
        try:
            author = author_urn(account)
        except AuthExpired:
            author = ""
        kind = AUTHOR.fullmatch(author)
        if kind and kind.group(1) == "organization":
            organization = self.organization(account, kind.group(2))
            return organization.vanity_name or organization.name, organization.urn
        urn, name = self.member(account)
        return name, urn

    def member(self, account: Account) -> tuple[str, str]:
        """The token's member as (urn:li:person:<id>, name), from the OpenID userinfo."""
        data = body_json(self._call(account, "GET", "/v2/userinfo", versioned=False))
        if not data.get("sub"):
            raise Temporary("linkedin answered userinfo without the member's id (sub)")
        return f"urn:li:person:{data['sub']}", str(data.get("name") or data["sub"])

    def organizations(self, account: Account) -> list[Organization]:
        """The organization pages the token's member may post for; none when the token may not list them
        (r_organization_admin not granted)."""
        response = self._call(account, "GET", "/rest/organizationAcls", accept=(200, 403),
                              params={"q": "roleAssignee", "state": "APPROVED"})
        if response.status_code == 403:
            return []
        found: dict[str, Organization] = {}
        for acl in body_json(response).get("elements") or []:
            urn = acl.get("organization") if isinstance(acl, dict) else None
            match = AUTHOR.fullmatch(urn) if isinstance(urn, str) else None
            if match and match.group(1) == "organization" and acl.get("role") in POSTING_ROLES \
                    and urn not in found:
                found[urn] = self.organization(account, match.group(2))
        return list(found.values())

    def organization(self, account: Account, organization_id: str) -> Organization:
        """One organization's names."""
        data = body_json(self._call(account, "GET", f"/rest/organizations/{organization_id}"))
        name = str(data.get("localizedName") or organization_id)
        return Organization(f"urn:li:organization:{organization_id}", name, data.get("vanityName") or None)

    def recent_posts(self, account: Account, limit: int = 20) -> list[RecentPost]:
        """The author's latest posts, newest first; Unsupported where LinkedIn does not let tcma read them."""
        author = author_urn(account)
        # Rest.li 2.0 wants the URN encoded inside the query; httpx would leave its colons as they are.
        query = f"q=author&author={quote(author, safe='')}&count={limit}&sortBy=CREATED"
        response = self._call(account, "GET", f"/rest/posts?{query}", accept=(200, 403))
        if response.status_code == 403:  # members' posts need r_member_social, which LinkedIn rarely grants
            message = clip(str(body_json(response).get("message") or response.text), account, 200)
            raise Unsupported(f"linkedin does not let tcma read the posts of {author} (403: {message}); "
                              "look on LinkedIn before publishing again")
        posts = []
        for element in body_json(response).get("elements") or []:
            if not isinstance(element, dict) or not element.get("id"):
                continue
            created = element.get("createdAt") or element.get("publishedAt")
            when = datetime.fromtimestamp(created / 1000, UTC) if isinstance(created, int | float) else None
            posts.append(RecentPost(str(element["id"]), post_url(str(element["id"])),
                                    plain_text(str(element.get("commentary") or "")), when))
        return posts

    def reconcile(self, account: Account, post: Post, since: datetime | None = None) -> Published | None:
        """The post if the author's recent posts show it (LinkedIn has no idempotency key)."""
        return find_published(self.recent_posts(account), post, since)

    def metrics(self, account: Account, external_id: str) -> PostMetrics:
        """The post's reactions (every kind) and comments from socialMetadata; LinkedIn gives reposts and
        impressions only through organization share statistics, not read here.

        Reading needs r_organization_social (a page's posts) or r_member_social (a member's, which LinkedIn
        rarely grants): a 403 is Unsupported. A deleted post answers 404: Rejected naming it.
        """
        if not isinstance(external_id, str) or not POST_URN.fullmatch(external_id):
            raise Rejected(f"linkedin post ids are share or ugcPost URNs, not {external_id!r}")
        response = self._call(account, "GET", f"/rest/socialMetadata/{quote(external_id, safe='')}",
                              accept=(200, 403, 404, 410))
        data = body_json(response)
        if response.status_code != 200:
            message = clip(str(data.get("message") or response.text), account, 200)
            if response.status_code == 403:
                raise Unsupported(f"linkedin does not let tcma read the numbers of {external_id} "
                                  f"(403: {message})")
            raise Rejected(f"linkedin no longer has post {external_id} ({response.status_code}: {message})")
        comments = data.get("commentSummary")
        if not isinstance(comments, dict):
            raise Temporary(f"linkedin answered socialMetadata of {external_id} without its commentSummary")
        # reactionSummaries maps each reaction type (LIKE, PRAISE, EMPATHY...) to its count; a type
        # nobody used is not there, and a post without reactions may have no map at all.
        summaries = data.get("reactionSummaries") or {}
        summaries = list(summaries.values()) if isinstance(summaries, dict) else summaries
        counts = [s.get("count") for s in summaries if isinstance(s, dict)] if isinstance(summaries, list) \
            else []
        likes = sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool) and c > 0)
        return PostMetrics.of(likes, None, comments.get("count"))

    def _upload(self, account: Account, author: str, post: Post) -> str:
        """initializeUpload, then PUT the bytes to the upload URL; return the image URN."""
        response = self._call(account, "POST", "/rest/images?action=initializeUpload",
                              json={"initializeUploadRequest": {"owner": author}})
        value = body_json(response).get("value") or {}
        upload_url, image = value.get("uploadUrl"), value.get("image")
        if not isinstance(upload_url, str) or not isinstance(image, str):
            raise Temporary("linkedin answered initializeUpload without an uploadUrl and image URN")
        host = httpx.URL(upload_url).host
        if host != httpx.URL(self.api).host and host != "linkedin.com" and not host.endswith(".linkedin.com"):
            raise Rejected(f"linkedin gave an upload URL on {host or 'no host'}, outside linkedin.com: "
                           "the token is not sent there")
        self._call(account, "PUT", upload_url, accept=(200, 201), versioned=False, content=post.image,
                   headers={"Content-Type": str(post.image_type)})
        return image

    def _call(self, account: Account, method: str, path: str, *, write: bool = False,
              accept: tuple[int, ...] = (200,), versioned: bool = True, headers: dict[str, str] | None = None,
              **kwargs: Any) -> httpx.Response:
        """One authenticated call (`path` on the API, or a full URL); raises unless the status is accepted."""
        token = account.credentials.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthExpired("linkedin account has no access_token")
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        if versioned:
            headers.update({"Linkedin-Version": self.settings.linkedin_version,
                            "X-Restli-Protocol-Version": PROTOCOL_VERSION})
        url = path if path.startswith(("http://", "https://")) else f"{self.api}{path}"
        response = send(self.client, account, method, url, write=write, headers=headers, **kwargs)
        if response.status_code not in accept:
            self._raise_for(account, response, write=write)
        return response

    def _raise_for(self, account: Account, response: httpx.Response, *, write: bool) -> None:
        code, data = response.status_code, body_json(response)
        name = str(data.get("code") or "")
        message = str(data.get("message") or short_body(response, account))
        reason = clip(f"linkedin answered {code}{' ' + name if name else ''}: {message}", account)
        if write and code == 504:  # a gateway stopped waiting; LinkedIn may have made the post
            raise UnknownOutcome(reason)
        if code == 426 or name == "NONEXISTENT_VERSION":
            raise Rejected(f"{reason}; LinkedIn no longer serves version {self.settings.linkedin_version}: "
                           "set TCMA_CONNECTORS_LINKEDIN_VERSION to a current one (YYYYMM)")
        if code == 429:
            now = self.clock()
            until = retry_after(response.headers, now)
            if until is None or until <= now:
                until = next_utc_midnight(now)  # daily quotas start again at midnight UTC
            raise RateLimited(until, reason, rate_limit=RateLimitState(remaining=0, reset=until))
        if code == 401:
            raise AuthExpired(reason)
        if code in (408, 425) or code >= 500:
            raise Temporary(reason)
        raise Rejected(reason)
