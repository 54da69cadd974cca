"""Portal sessions on the server: the cookie carries an opaque random id and nothing else."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from tcma.services.accounts.sessions import end_web_session, open_web_session, save_web_session


class ServerSession(CallbackDict, SessionMixin):
    """The session's data (CSRF token...) and who signed in; stored server-side by id."""

    def __init__(self, data: dict[str, Any] | None = None, key: str | None = None,
                 user_id: int | None = None, stale: bool = False) -> None:
        def changed(_: Any) -> None:
            self.modified = True

        super().__init__(data or {}, changed)
        self.key = key
        self.user_id = user_id
        self.stale = stale  # last seen long enough ago to write the time again
        self.rotate = False
        self.ended = False
        self.modified = False

    def start(self, user_id: int) -> None:
        """Sign a user in: a fresh id (the old one ends), nothing carried over."""
        self.clear()
        self.user_id, self.rotate, self.ended = user_id, True, False

    def end(self) -> None:
        """Sign out: the id ends on the server and the cookie is removed."""
        self.clear()
        self.user_id, self.ended = None, True


class ServerSessionInterface(SessionInterface):
    """Flask's session interface over tcma's server-side session store."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if "HTTP_COOKIE" not in request.environ:  # most tracking requests: nothing to parse
            return ServerSession()
        key = request.cookies.get(self.get_cookie_name(app))
        found = open_web_session(key) if key else None
        if found is None:
            return ServerSession()
        return ServerSession(found.data, key=key, user_id=found.user_id, stale=found.stale)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.ended:
            end_web_session(session.key)
            response.delete_cookie(name, domain=domain, path=path)
            return
        if not (session.modified or session.rotate or session.stale):
            return
        if session.key is None and not session and session.user_id is None:
            return  # nothing worth keeping for an anonymous visitor
        key = save_web_session(session.key, session.user_id, dict(session), session.rotate)
        if key != session.key:
            response.set_cookie(name, key, httponly=True, path=path, domain=domain,
                                secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))
        response.vary.add("Cookie")
