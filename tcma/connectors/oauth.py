"""Connecting accounts by OAuth 2: one flow per network (LinkedIn, X, Facebook Pages, Mastodon).

Public API:

- ``build_oauth_flow(network, settings) -> OAuthFlow`` for a network of ``OAUTH_NETWORKS`` (the
  dry-run flow when ``settings.backend == "dryrun"``); ``Unsupported`` for the others.
- ``OAuthFlow``: ``configured()``, ``authorization_url(redirect_uri, state, instance_url=None) ->
  Authorization``, ``complete(code, redirect_uri, keep) -> list[Grant]``, ``refresh(account) -> Grant``,
  ``revoke(account)``, ``close()``.
- ``Authorization(url, keep)``, ``Grant(handle, external_id, credentials, expires_at, base_url,
  display_name)``; ``keep`` and ``credentials`` stay out of reprs.

How the caller uses a flow:

1. ``authorization_url`` gives the network's consent page and what ``complete`` needs back (``keep``:
   the PKCE code verifier; Mastodon's instance and the app registered there). The caller seals
   ``keep`` and ``state`` and sends the partner to ``url``.
2. The network sends the partner back to ``redirect_uri?code=...&state=...`` (or ``error=access_denied``
   when they said no). The caller checks ``state`` and calls ``complete``: one Grant per account the
   consent connected (a LinkedIn member and the organization pages they administer; each Facebook Page).
3. Before ``expires_at`` (or after a connector's AuthExpired), ``refresh`` gives new credentials: store
   them all (X rotates its refresh token: the old one stops working at once).
4. On disconnect, ``revoke``, best effort.

Failures: the network refusing a code -> Rejected (its answer in the message, secrets scrubbed);
refusing a refresh (invalid_grant, revoked) -> AuthExpired; unreachable or failing -> Temporary;
a flow whose vendor app is not configured -> Unsupported naming the TCMA_CONNECTORS_* settings.
Client secrets, codes, verifiers and tokens never appear in messages, reprs or URLs that httpx logs.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from . import (
    Account,
    AuthExpired,
    Clock,
    ConnectorSettings,
    RateLimited,
    Rejected,
    Temporary,
    Unsupported,
    utc_now,
)
from .facebook import FacebookConnector
from .linkedin import LinkedInConnector
from .mastodon import MastodonConnector
from .transport import body_json, clip_secrets, make_client, send
from .x import XConnector

with warnings.catch_warnings():
    # Authlib 1.9 warns, once and at import, that it runs on httpx rather than its httpx2 fork. Its
    # deprecation module puts an "always" filter first when imported, so it is imported before ours.
    import authlib.deprecate  # noqa: F401
    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

OAUTH_NETWORKS = ("linkedin", "x", "facebook", "mastodon")
LINKEDIN_SCOPES = ("openid", "profile", "w_member_social", "w_organization_social", "r_organization_social",
                   "r_organization_admin")
X_SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
FACEBOOK_SCOPES = ("pages_show_list", "pages_manage_posts", "pages_read_engagement")
MASTODON_SCOPES = ("read:accounts", "read:statuses", "write:statuses", "write:media")
MASTODON_APP_NAME = "tcma"
SECRET_PARAMS = ("code", "code_verifier", "refresh_token", "fb_exchange_token")
FACEBOOK_PAGE_LISTS = 20  # /me/accounts pages of 100 read at most


@dataclass(frozen=True, kw_only=True)
class Authorization:
    """Where to send the partner, and what `complete` needs back (sealed by the caller)."""

    url: str
    keep: dict[str, str] = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class Grant:
    """One account a consent connected, with what publishing to it needs."""

    handle: str
    external_id: str
    credentials: dict[str, str] = field(repr=False)
    expires_at: datetime | None  # when the access token stops working; None: it does not expire
    base_url: str | None = None  # Mastodon: the instance
    display_name: str = ""


class OAuthFlow(Protocol):
    """What every network's OAuth flow offers."""

    network: str

    def configured(self) -> bool:
        """True when the vendor's app on the network (id and secret) is set."""

    def authorization_url(self, redirect_uri: str, state: str, *,
                          instance_url: str | None = None) -> Authorization:
        """The consent page to send the partner to, and what `complete` needs back."""

    def complete(self, code: str, redirect_uri: str, keep: Mapping[str, str]) -> list[Grant]:
        """Exchange the code the network sent back; one Grant per account connected."""

    def refresh(self, account: Account) -> Grant:
        """New credentials for the account (AuthExpired when the network refuses)."""

    def revoke(self, account: Account) -> None:
        """Ask the network to forget the account's tokens, where it allows."""

    def close(self) -> None:
        """Release the connections the flow holds."""


def _strings(credentials: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in credentials.items() if isinstance(value, str) and value}


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def _oauth_error(data: dict[str, Any]) -> str:
    """A token endpoint's error as text: RFC 6749 (`error`, `error_description`) or Graph's envelope."""
    error = data.get("error")
    if isinstance(error, dict):  # Facebook
        code, subcode = error.get("code"), error.get("error_subcode")
        codes = f" (code {code}{f'/{subcode}' if subcode else ''})" if code else ""
        return f"{error.get('type') or 'error'}{codes}: {error.get('message') or ''}".rstrip(": ")
    if error:
        description = data.get("error_description") or data.get("message") or ""
        return f"{error}: {description}" if description else str(error)
    return str(data.get("message") or data.get("detail") or data.get("title") or "")


class _OAuth2Flow:
    """The authorization code grant through Authlib, with the answers classified as connectors do."""

    network = ""
    scopes: tuple[str, ...] = ()
    scope_separator = " "
    client_auth = "client_secret_post"  # how the token and revoke endpoints take the app's credentials
    pkce = False
    client_id_setting = ""
    client_secret_setting = ""

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock

    @property
    def client_id(self) -> str | None:
        return getattr(self.settings, self.client_id_setting, None)

    @property
    def client_secret(self) -> str | None:
        return getattr(self.settings, self.client_secret_setting, None)

    def configured(self) -> bool:
        """True when the vendor's app id and secret are set."""
        return bool(self.client_id and self.client_secret)

    def close(self) -> None:
        """Nothing held between calls (each OAuth exchange has its own client)."""

    def _require(self) -> tuple[str, str]:
        """The vendor's app as (client id, client secret); Unsupported naming the settings when unset."""
        if not self.client_id or not self.client_secret:
            raise Unsupported(f"{self.network} is not set up: set {self._setting_names()} (the vendor's app)")
        return self.client_id, self.client_secret

    def _setting_names(self) -> str:
        return (f"TCMA_CONNECTORS_{self.client_id_setting.upper()} and "
                f"TCMA_CONNECTORS_{self.client_secret_setting.upper()}")

    def _client(self, app: tuple[str, str]) -> OAuth2Client:
        timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        return OAuth2Client(*app, token_endpoint_auth_method=self.client_auth,
                            revocation_endpoint_auth_method=self.client_auth,
                            code_challenge_method="S256" if self.pkce else None, timeout=timeout,
                            follow_redirects=False, headers={"User-Agent": self.settings.user_agent})

    def _consent(self, url: str, app: tuple[str, str], redirect_uri: str, state: str,
                 keep: dict[str, str] | None = None) -> Authorization:
        keep = dict(keep or {})
        verifier = secrets.token_urlsafe(48) if self.pkce else None
        with self._client(app) as client:
            consent, _ = client.create_authorization_url(url, state=state, code_verifier=verifier,
                                                         redirect_uri=redirect_uri,
                                                         scope=self.scope_separator.join(self.scopes))
        if verifier:
            keep["code_verifier"] = verifier
        return Authorization(url=consent, keep=keep)

    def _token(self, url: str, app: tuple[str, str], *, refreshing: bool = False, **params: str
               ) -> dict[str, Any]:
        """A token endpoint's answer; the failure classified (see the module docstring)."""
        hidden = [app[1], *(value for key, value in params.items() if key in SECRET_PARAMS)]

        def checked(response: httpx.Response) -> httpx.Response:
            data = body_json(response)
            if response.status_code == 200 and isinstance(data.get("access_token"), str):
                return response
            raise self._refusal(response, data, hidden, refreshing=refreshing)

        with self._client(app) as client:
            client.register_compliance_hook("access_token_response", checked)
            client.register_compliance_hook("refresh_token_response", checked)
            with self._reaching(url):
                if refreshing:
                    token = client.refresh_token(url, **params)
                else:
                    token = client.fetch_token(url, **params)
        return dict(token)

    def _refusal(self, response: httpx.Response, data: dict[str, Any], hidden: list[str], *,
                 refreshing: bool) -> Exception:
        status = response.status_code
        answer = clip_secrets(f"{status} {_oauth_error(data) or response.text}", hidden)
        if status == 429 or status >= 500 or status in (408, 425):
            return Temporary(f"{self.network} could not answer the token request now ({answer})")
        if status == 200:
            return Temporary(f"{self.network} answered the token request without an access token ({answer})")
        if data.get("error") in ("invalid_client", "unauthorized_client"):  # the app, not the partner
            return Rejected(f"{self.network} refused tcma's app ({answer}): check {self._setting_names()}")
        if refreshing:
            return AuthExpired(f"{self.network} refused the refresh token ({answer}): "
                               "the partner must connect the account again")
        return Rejected(f"{self.network} refused the authorization code ({answer})")

    def _revoke(self, url: str, app: tuple[str, str], token: str, hint: str, body: str = "") -> None:
        hidden = [app[1], token]
        with self._client(app) as client, self._reaching(url):
            response = client.revoke_token(url, token=token, token_type_hint=hint, body=body)
        if response.status_code == 200:
            return
        answer = clip_secrets(f"{response.status_code} {_oauth_error(body_json(response)) or response.text}",
                              hidden)
        if response.status_code == 429 or response.status_code >= 500:
            raise Temporary(f"{self.network} could not revoke the token now ({answer})")
        raise Rejected(f"{self.network} refused to revoke the token ({answer})")

    @contextmanager
    def _reaching(self, url: str) -> Iterator[None]:
        """Transport failures as Temporary (every answer that came is classified by the caller)."""
        where = httpx.URL(url).host or url
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Temporary(f"{self.network}: could not reach {where} ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Temporary(f"{self.network}: no answer from {where} ({type(exc).__name__})") from None

    @contextmanager
    def _connecting(self) -> Iterator[None]:
        """Reading the new account: a refusal of the fresh token is the network refusing the connection."""
        try:
            yield
        except AuthExpired as exc:
            raise Rejected(f"{self.network} refused the new token: {exc.reason}") from None
        except RateLimited as exc:
            raise Temporary(exc.reason) from None

    def _expires_at(self, token: Mapping[str, Any]) -> datetime | None:
        seconds = token.get("expires_in")
        try:
            return self.clock() + timedelta(seconds=int(seconds)) if seconds is not None else None
        except (TypeError, ValueError):
            return None

    def _code(self, code: str) -> str:
        if not code:
            raise Rejected(f"{self.network} sent no authorization code back")
        return code

    def _kept(self, keep: Mapping[str, str], name: str) -> str:
        value = keep.get(name)
        if not value:
            raise Rejected(f"{self.network}: {name} is missing from what the authorization step kept")
        return value


class LinkedInFlow(_OAuth2Flow):
    """LinkedIn's authorization code grant; the member and the organization pages they administer.

    Access tokens last 60 days. Only apps LinkedIn approved for programmatic refresh get a refresh
    token (365 days, not rolled); without one the partner connects again when the token expires.
    """

    network = "linkedin"
    scopes = LINKEDIN_SCOPES
    client_id_setting = "linkedin_client_id"
    client_secret_setting = "linkedin_client_secret"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        super().__init__(settings, clock=clock)
        self.oauth = settings.linkedin_auth_url.rstrip("/")
        self.connector = LinkedInConnector(settings, clock=clock)

    def close(self) -> None:
        """Close the API connections."""
        self.connector.close()

    def authorization_url(self, redirect_uri: str, state: str, *,
                          instance_url: str | None = None) -> Authorization:
        """LinkedIn's consent page asking to post for the member and their organization pages."""
        return self._consent(f"{self.oauth}/authorization", self._require(), redirect_uri, state)

    def complete(self, code: str, redirect_uri: str, keep: Mapping[str, str]) -> list[Grant]:
        """The member, then each organization page they may post for (when the token allows)."""
        token = self._token(f"{self.oauth}/accessToken", self._require(), grant_type="authorization_code",
                            code=self._code(code), redirect_uri=redirect_uri)
        credentials = _strings({"access_token": token["access_token"],
                                "refresh_token": token.get("refresh_token")})
        user = Account(network=self.network, base_url=self.connector.api, handle="", credentials=credentials)
        expires_at = self._expires_at(token)
        with self._connecting():
            urn, name = self.connector.member(user)
            granted = str(token.get("scope") or "").replace(",", " ").split()
            organizations = self.connector.organizations(user) if "r_organization_admin" in granted else []
        grants = [Grant(handle=name, external_id=urn, credentials={**credentials, "author": urn},
                        expires_at=expires_at, display_name=name)]
        grants += [Grant(handle=org.vanity_name or org.name, external_id=org.urn,
                         credentials={**credentials, "author": org.urn}, expires_at=expires_at,
                         display_name=org.name) for org in organizations]
        return grants

    def refresh(self, account: Account) -> Grant:
        """A new 60-day access token from the refresh token (which LinkedIn does not rotate)."""
        app = self._require()
        refresh_token = account.credentials.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthExpired("linkedin gave no refresh token for this account: the partner must connect "
                              "it again when its token expires")
        token = self._token(f"{self.oauth}/accessToken", app, refreshing=True, refresh_token=refresh_token)
        credentials = {**_strings(account.credentials), "access_token": token["access_token"],
                       "refresh_token": token.get("refresh_token") or refresh_token}
        return Grant(handle=account.handle, external_id=account.external_id or credentials.get("author", ""),
                     credentials=credentials, expires_at=self._expires_at(token))

    def revoke(self, account: Account) -> None:
        """Revoke the access token (the member's other connected pages share it and stop working too)."""
        app = self._require()
        token = account.credentials.get("access_token")
        if isinstance(token, str) and token:
            self._revoke(f"{self.oauth}/revoke", app, token, "access_token")


class XFlow(_OAuth2Flow):
    """X's authorization code grant with PKCE (S256): two-hour tokens, refresh tokens that rotate."""

    network = "x"
    scopes = X_SCOPES
    client_auth = "client_secret_basic"  # a confidential client: HTTP Basic, client_id in the body too
    pkce = True
    client_id_setting = "x_client_id"
    client_secret_setting = "x_client_secret"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        super().__init__(settings, clock=clock)
        self.api = settings.x_api_url.rstrip("/")
        self.connector = XConnector(settings, clock=clock)

    def close(self) -> None:
        """Close the API connections."""
        self.connector.close()

    def authorization_url(self, redirect_uri: str, state: str, *,
                          instance_url: str | None = None) -> Authorization:
        """X's consent page; `keep` holds the PKCE code verifier."""
        return self._consent(self.settings.x_auth_url, self._require(), redirect_uri, state)

    def complete(self, code: str, redirect_uri: str, keep: Mapping[str, str]) -> list[Grant]:
        """The user the token belongs to (GET /2/users/me)."""
        app = self._require()
        token = self._token(f"{self.api}/2/oauth2/token", app, grant_type="authorization_code",
                            code=self._code(code), redirect_uri=redirect_uri,
                            code_verifier=self._kept(keep, "code_verifier"), client_id=app[0])
        credentials = _strings({"access_token": token["access_token"],
                                "refresh_token": token.get("refresh_token")})
        with self._connecting():
            user = self.connector.me(Account(network=self.network, base_url=self.api, handle="",
                                             credentials=credentials))
        return [Grant(handle=f"@{user['username']}", external_id=user["id"], credentials=credentials,
                      expires_at=self._expires_at(token), display_name=user["name"])]

    def refresh(self, account: Account) -> Grant:
        """New access and refresh tokens; the old refresh token stops working."""
        app = self._require()
        refresh_token = account.credentials.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthExpired("x gave no refresh token for this account (offline.access): the partner "
                              "must connect it again")
        token = self._token(f"{self.api}/2/oauth2/token", app, refreshing=True, refresh_token=refresh_token,
                            client_id=app[0])
        credentials = {**_strings(account.credentials), "access_token": token["access_token"],
                       "refresh_token": token.get("refresh_token") or refresh_token}
        return Grant(handle=account.handle, external_id=account.external_id or "", credentials=credentials,
                     expires_at=self._expires_at(token))

    def revoke(self, account: Account) -> None:
        """Revoke the refresh token, then the access token."""
        app = self._require()
        for hint in ("refresh_token", "access_token"):
            token = account.credentials.get(hint)
            if isinstance(token, str) and token:
                self._revoke(f"{self.api}/2/oauth2/revoke", app, token, hint,
                             urlencode({"client_id": app[0]}))


class FacebookFlow(_OAuth2Flow):
    """Facebook Login for Pages: code -> user token -> long-lived user token -> each Page's token.

    A Page token obtained from a long-lived user token does not expire, so there is nothing to
    refresh. Revoking removes the app's permissions for the person: every Page they connected goes.
    """

    network = "facebook"
    scopes = FACEBOOK_SCOPES
    scope_separator = ","
    client_id_setting = "facebook_app_id"
    client_secret_setting = "facebook_app_secret"

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        super().__init__(settings, clock=clock)
        self.graph = settings.facebook_graph_url.rstrip("/")
        self.connector = FacebookConnector(settings, clock=clock)

    def close(self) -> None:
        """Close the API connections."""
        self.connector.close()

    def authorization_url(self, redirect_uri: str, state: str, *,
                          instance_url: str | None = None) -> Authorization:
        """Facebook's consent page, where the person picks the Pages tcma may post to."""
        return self._consent(self.settings.facebook_auth_url, self._require(), redirect_uri, state)

    def complete(self, code: str, redirect_uri: str, keep: Mapping[str, str]) -> list[Grant]:
        """One Grant per Page the person granted and may create content on, with its Page token."""
        app = self._require()
        short = self._token(f"{self.graph}/oauth/access_token", app, grant_type="authorization_code",
                            code=self._code(code), redirect_uri=redirect_uri)
        long = self._token(f"{self.graph}/oauth/access_token", app, grant_type="fb_exchange_token",
                           fb_exchange_token=short["access_token"])
        user = Account(network=self.network, base_url=self.graph, handle="",
                       credentials={"access_token": long["access_token"], "short": short["access_token"]})
        with self._connecting():
            person = self.connector.user_get(user, "/me", fields="id,name")
            granted = {p.get("permission") for p in self.connector.user_get(user, "/me/permissions")
                       .get("data") or [] if isinstance(p, dict) and p.get("status") == "granted"}
            if "pages_manage_posts" not in granted:
                raise Rejected("facebook: the person did not allow pages_manage_posts; connect again and "
                               "let tcma create content on the Page")
            pages = self._pages(user)
        grants = [Grant(handle=page.get("username") or page["name"], external_id=str(page["id"]),
                        credentials=_strings({"access_token": page["access_token"],
                                              "user_id": str(person.get("id") or "")}),
                        expires_at=None, display_name=page["name"])
                  for page in pages]
        if not grants:
            raise Rejected("facebook: the person gave tcma no Page it can post to; connect again and "
                           "choose at least one Page")
        return grants

    def _pages(self, user: Account) -> list[dict[str, Any]]:
        """The person's Pages with a Page token and the CREATE_CONTENT task, every list page read."""
        pages: list[dict[str, Any]] = []
        params = {"fields": "id,name,username,access_token,tasks", "limit": "100"}
        for _ in range(FACEBOOK_PAGE_LISTS):
            answer = self.connector.user_get(user, "/me/accounts", **params)
            for page in answer.get("data") or []:
                if not isinstance(page, dict) or not all(page.get(k) for k in ("id", "name", "access_token")):
                    continue
                if "CREATE_CONTENT" in (page.get("tasks") or ["CREATE_CONTENT"]):
                    pages.append(page)
            paging = answer.get("paging") or {}
            params["after"] = (paging.get("cursors") or {}).get("after") or ""
            if not paging.get("next") or not params["after"]:
                break
        return pages

    def refresh(self, account: Account) -> Grant:
        """Unsupported: Page tokens do not expire."""
        raise Unsupported("facebook Page tokens do not expire: there is nothing to refresh; connect the "
                          "Page again if Facebook refuses its token")

    def revoke(self, account: Account) -> None:
        """DELETE /{user-id}/permissions with the app's token: the app loses every Page of that person."""
        app = self._require()
        user_id = account.credentials.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise Unsupported("facebook account has no user_id to revoke the app's permissions for")
        holder = Account(network=self.network, base_url=self.graph, handle="",
                         credentials={"access_token": f"{app[0]}|{app[1]}", "secret": app[1]})
        response, _ = self.connector._call(holder, "DELETE", f"/{user_id}/permissions")
        if body_json(response).get("success") is not True:
            raise Temporary("facebook answered the revocation without success")


class MastodonFlow(_OAuth2Flow):
    """OAuth on the partner's own instance: tcma registers itself there first (POST /api/v1/apps).

    The app's client id and secret travel in `keep` and end in the Grant's credentials, so the token
    can be revoked later. Mastodon tokens do not expire.
    """

    network = "mastodon"
    scopes = MASTODON_SCOPES
    pkce = True  # Mastodon 4.3 checks it; earlier versions ignore the parameters

    def __init__(self, settings: ConnectorSettings, *, clock: Clock = utc_now) -> None:
        super().__init__(settings, clock=clock)
        self.client = make_client(settings)
        self.connector = MastodonConnector(settings, clock=clock)

    def configured(self) -> bool:
        """Always: tcma registers its app on each instance."""
        return True

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()
        self.connector.close()

    def authorization_url(self, redirect_uri: str, state: str, *,
                          instance_url: str | None = None) -> Authorization:
        """Register tcma on the instance, then its consent page; `keep` holds the app and the verifier."""
        base = self._instance(instance_url)
        holder = Account(network=self.network, base_url=base, handle="")
        response = send(self.client, holder, "POST", f"{base}/api/v1/apps",
                        data={"client_name": MASTODON_APP_NAME, "redirect_uris": redirect_uri,
                              "scopes": " ".join(self.scopes)})
        data = body_json(response)
        answer = clip_secrets(f"{response.status_code} {_oauth_error(data) or response.text}",
                              [str(data.get("client_secret") or "")])
        host = httpx.URL(base).host
        if response.status_code == 429 or response.status_code >= 500:
            raise Temporary(f"mastodon instance {host} could not register tcma now ({answer})")
        if response.status_code != 200 or not data.get("client_id") or not data.get("client_secret"):
            raise Rejected(f"mastodon instance {host} refused to register tcma ({answer})")
        app = (str(data["client_id"]), str(data["client_secret"]))
        return self._consent(f"{base}/oauth/authorize", app, redirect_uri, state,
                             keep={"instance_url": base, "client_id": app[0], "client_secret": app[1]})

    def complete(self, code: str, redirect_uri: str, keep: Mapping[str, str]) -> list[Grant]:
        """The instance account the token belongs to."""
        base = self._instance(self._kept(keep, "instance_url"))
        app = (self._kept(keep, "client_id"), self._kept(keep, "client_secret"))
        token = self._token(f"{base}/oauth/token", app, grant_type="authorization_code",
                            code=self._code(code), redirect_uri=redirect_uri,
                            code_verifier=keep.get("code_verifier", ""))
        credentials = {"access_token": token["access_token"], "client_id": app[0], "client_secret": app[1]}
        with self._connecting():
            profile = self.connector.profile(Account(network=self.network, base_url=base, handle="",
                                                     credentials=credentials))
        return [Grant(handle=profile["handle"], external_id=profile["id"], credentials=credentials,
                      expires_at=None, base_url=base, display_name=profile["display_name"])]

    def refresh(self, account: Account) -> Grant:
        """Unsupported: Mastodon tokens do not expire."""
        raise Unsupported("mastodon tokens do not expire: there is nothing to refresh")

    def revoke(self, account: Account) -> None:
        """POST /oauth/revoke with the app tcma registered on the instance when connecting."""
        found = [account.credentials.get(k) for k in ("client_id", "client_secret", "access_token")]
        if not all(isinstance(v, str) and v for v in found):
            raise Unsupported("mastodon account was connected with a pasted access token: revoke it in the "
                              "instance's authorized apps")
        client_id, client_secret, token = (str(v) for v in found)
        self._revoke(f"{self._instance(account.base_url)}/oauth/revoke", (client_id, client_secret), token,
                     "access_token")

    def _instance(self, url: str | None) -> str:
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Rejected("mastodon needs the address of the partner's instance, such as "
                           "https://mastodon.social")
        return f"{parts.scheme}://{parts.netloc}"


class DryRunFlow:
    """The demo's consent: no network; the consent page is the redirect itself, already approved."""

    def __init__(self, network: str, *, clock: Clock = utc_now) -> None:
        self.network = network
        self.clock = clock

    def configured(self) -> bool:
        """Always."""
        return True

    def close(self) -> None:
        """Nothing to release."""

    def authorization_url(self, redirect_uri: str, state: str, *,
                          instance_url: str | None = None) -> Authorization:
        """`redirect_uri` with a dry-run code and the state, as if the partner had approved."""
        keep = {"instance_url": instance_url} if instance_url else {}
        code = f"dryrun-{secrets.token_urlsafe(12)}"
        return Authorization(url=_with_query(redirect_uri, code=code, state=state), keep=keep)

    def complete(self, code: str, redirect_uri: str, keep: Mapping[str, str]) -> list[Grant]:
        """One made-up account per network (and instance), the same on every connect."""
        if not code.startswith("dryrun-"):
            raise Rejected(f"{self.network} (dry run) refused the authorization code: not a dry-run code")
        base = keep.get("instance_url") if self.network == "mastodon" else None
        host = urlsplit(base).hostname if base else None
        handle = f"@partner@{host}" if host else f"dryrun-{self.network}-partner"
        return [Grant(handle=handle, external_id=f"dryrun:{self.network}:{host or 'partner'}",
                      credentials={"access_token": f"dryrun-{secrets.token_urlsafe(12)}"}, expires_at=None,
                      base_url=base, display_name=f"Dry-run {self.network} partner")]

    def refresh(self, account: Account) -> Grant:
        """A new made-up token."""
        return Grant(handle=account.handle, external_id=account.external_id or "",
                     credentials={**_strings(account.credentials),
                                  "access_token": f"dryrun-{secrets.token_urlsafe(12)}"}, expires_at=None)

    def revoke(self, account: Account) -> None:
        """Nothing to revoke."""


_FLOWS: dict[str, type[LinkedInFlow | XFlow | FacebookFlow | MastodonFlow]] = {
    "linkedin": LinkedInFlow, "x": XFlow, "facebook": FacebookFlow, "mastodon": MastodonFlow}


def build_oauth_flow(network: str, settings: ConnectorSettings, *, clock: Clock = utc_now) -> OAuthFlow:
    """The OAuth flow for `network` (the dry-run one when the settings say so)."""
    if network not in OAUTH_NETWORKS:
        raise Unsupported(f"{network!r} does not connect by OAuth; the OAuth networks are "
                          f"{', '.join(OAUTH_NETWORKS)}")
    if settings.backend == "dryrun":
        return DryRunFlow(network, clock=clock)
    return _FLOWS[network](settings, clock=clock)


__all__ = [
    "FACEBOOK_SCOPES", "LINKEDIN_SCOPES", "MASTODON_SCOPES", "OAUTH_NETWORKS", "X_SCOPES", "Authorization",
    "DryRunFlow", "FacebookFlow", "Grant", "LinkedInFlow", "MastodonFlow", "OAuthFlow", "XFlow",
    "build_oauth_flow",
]
