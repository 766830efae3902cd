"""AuthService: login for the golden path (users login → get AI responses)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["AuthError", "AuthService", "Session"]


class AuthError(PermissionError):
    """Wrong credentials or an unknown token."""


@dataclass(frozen=True)
class Session:
    token: str
    user_id: str
    email: str


def _digest(password: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


class AuthService:
    """In-memory accounts and sessions; enough to make login a real step of the flow."""

    def __init__(self) -> None:
        self._accounts: dict[str, tuple[str, str, str]] = {}  # email -> (user_id, salt, digest)
        self._sessions: dict[str, Session] = {}

    def register(self, email: str, password: str) -> str:
        user_id = "usr_" + hashlib.sha1(email.encode()).hexdigest()[:10]  # noqa: S324 - an id
        salt = secrets.token_hex(4)
        self._accounts[email] = (user_id, salt, _digest(password, salt))
        return user_id

    def login(self, email: str, password: str) -> Session:
        try:
            user_id, salt, digest = self._accounts[email]
        except KeyError:
            raise AuthError(f"unknown account {email}") from None
        if not hmac.compare_digest(digest, _digest(password, salt)):
            raise AuthError("wrong password")
        session = Session(token=secrets.token_urlsafe(16), user_id=user_id, email=email)
        self._sessions[session.token] = session
        return session

    def authenticate(self, token: str) -> Session:
        try:
            return self._sessions[token]
        except KeyError:
            raise AuthError("invalid or expired token") from None
