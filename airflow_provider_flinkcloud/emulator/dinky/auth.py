"""Dinky's Sa-Token rules, as the server applies them (``dinky-admin/.../configure/AppConfig.java``,
``SaTokenConfigure``, ``service/impl/TokenService.java``, ``application.yml`` ``sa-token.*``).

- ``/openapi/**`` never refuses: 1.x runs a request without a valid token as user 1 (admin)
  (``if (!StpUtil.isLogin()) StpUtil.switchTo(1)``); 0.7 excludes the path from the interceptor.
- ``/api/**`` endpoints marked ``@SaCheckLogin`` (``/api/tokenInfo``) answer HTTP 401, code 7.
- A token is read from the request parameter, the header, then the cookie named by the version's
  token name (0.7 ``satoken``, 1.0-1.1 ``token``, 1.2 ``dinky-token``).
- ``is-concurrent: false``: a new login of a user replaces that user's earlier token (BE_REPLACED).
- API tokens (``dinky_sys_token`` rows, 1.0+) are loaded at start-up and never expire here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ControlError

DINKY_USERNAME = "admin"
# The shipped default admin password (script/sql/dinky-mysql.sql stores its MD5).
DINKY_PASSWORD = "dinky123!@#"  # noqa: S105
DINKY_PASSWORD_MD5 = "f4b3a484ee745b98d64cd69c429b2aa2"  # noqa: S105
# An API token the emulator accepts for user 1, as one made under "Auth center -> Token" would be.
DINKY_API_TOKEN = "flinkcloud-emulator-dinky-api-token"  # noqa: S105
ADMIN_ID = 1


def token_name(version: str) -> str:
    if version.startswith("0."):
        return "satoken"
    return "token" if version.startswith(("1.0", "1.1")) else "dinky-token"


@dataclass
class Session:
    user: str
    token: str
    expires_at: float


@dataclass
class DinkyAuth:
    users: dict[str, str] = field(default_factory=lambda: {DINKY_USERNAME: DINKY_PASSWORD})
    api_tokens: dict[str, str] = field(default_factory=lambda: {DINKY_API_TOKEN: DINKY_USERNAME})
    # Live login tokens, and those replaced by a later login of the same user.
    sessions: dict[str, Session] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)

    def add(self, username: str, password: str | None, api_token: str | None) -> None:
        if not username:
            raise ControlError("'access_key' (the Dinky user name) is required")
        if password:
            self.users[username] = password
        if api_token:
            self.api_tokens[api_token] = username
        if not password and not api_token:
            raise ControlError("give 'secret_key' (a password) or 'session_token' (an API token)")

    def login(self, username: str, password: str, now: float, timeout: float) -> Session | None:
        if self.users.get(username) != password:
            return None
        for token, session in list(self.sessions.items()):
            if session.user == username:
                del self.sessions[token]
                self.replaced.add(token)
        session = Session(username, str(uuid.uuid4()), now + timeout)
        self.sessions[session.token] = session
        return session

    def check(self, token: str | None, now: float) -> tuple[str | None, str]:
        """(the user, "") for a valid token; (None, the NotLoginException type) otherwise."""
        if not token:
            return None, "NOT_TOKEN"
        if token in self.api_tokens:
            return self.api_tokens[token], ""
        if token in self.replaced:
            return None, "BE_REPLACED"
        session = self.sessions.get(token)
        if session is None:
            return None, "INVALID_TOKEN"
        if session.expires_at <= now:
            return None, "TOKEN_TIMEOUT"
        return session.user, ""


def request_token(request: ApiRequest, name: str) -> str | None:
    """The token as Sa-Token reads it: parameter, then header, then cookie."""
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        if key == name and value:
            return value
    header = request.header(name)
    if header:
        return header.strip()
    cookies = SimpleCookie()
    try:
        cookies.load(request.header("Cookie") or "")
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None and morsel.value else None
