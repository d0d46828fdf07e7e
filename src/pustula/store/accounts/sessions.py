"""Web sessions kept in the database, and the sign-in throttle every worker shares.

A session is a random id in the browser's signed cookie and its SHA-256 here, so that
signing out, deactivating a user or changing a password ends it everywhere at once, and a
cookie copied before sign-out is worth nothing after it.

The throttle counts failed sign-ins per (user name, client) and per client in the
database, not in one worker's memory. An attempt is *reserved* (written) before the
password is checked, so forty concurrent attempts cannot all slip under the limit; a
stranger cannot lock a user out, because their failures count against their own client.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from pustula.store.db.models import LoginFailure, WebSession
from pustula.store.db.uow import Store

__all__ = [
    "Attempt",
    "PatientThrottle",
    "SessionPolicy",
    "Throttle",
    "end_session",
    "end_user_sessions",
    "session_hash",
    "start_session",
    "touch_session",
]

#: A session's last-seen time is written at most this often, so reads stay reads.
TOUCH_EVERY = 60.0


@dataclass(frozen=True)
class SessionPolicy:
    """Idle and absolute timeouts of a web session, in seconds."""

    idle: float = 30 * 60.0
    absolute: float = 8 * 3600.0


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(store: Store, user_id: int, *, now: float | None = None) -> str:
    """A new session for the user; returns the id for the cookie (stored only hashed)."""
    session_id = secrets.token_urlsafe(32)
    moment = time.time() if now is None else now
    row = {"token_hash": session_hash(session_id), "user_id": user_id, "created": moment,
           "last_seen": moment, "revoked": None}  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(insert(WebSession), row)
    return session_id


def end_session(store: Store, session_id: str) -> None:
    """Sign-out: the session ends, whoever holds a copy of the cookie."""
    with store.engine.begin() as connection:
        connection.execute(
            update(WebSession)
            .where(WebSession.token_hash == session_hash(session_id))
            .values(revoked=time.time())
        )


def end_user_sessions(connection: Connection, user_id: int) -> None:
    """End every session of a user (deactivation, a new password), in the caller's work."""
    connection.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked.is_(None))
        .values(revoked=time.time())
    )


def touch_session(store: Store, token_hash: str, last_seen: float, now: float) -> None:
    """Move the idle timeout on, at most once a minute."""
    if now - last_seen < TOUCH_EVERY:
        return
    with store.engine.begin() as connection:
        connection.execute(
            update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen=now)
        )


@dataclass(frozen=True)
class Throttle:
    """At most ``per_user`` failed sign-ins per (user name, client), and ``per_client``
    per client over all names, in ``window`` seconds.

    Per account, over all clients: the first ``account_free`` failures in
    ``account_window`` seconds cost nothing; after that each attempt waits a delay that
    doubles with every further failure, up to ``account_max_wait`` seconds after the
    last one. An attacker with many addresses is slowed to a crawl (40 guesses an hour
    instead of 50 from every address), and the real user is never locked out: after the
    delay, a right password signs in.
    """

    per_user: int = 5
    per_client: int = 20
    window: float = 300.0
    account_free: int = 10
    account_window: float = 3600.0
    account_max_wait: float = 300.0

    def keys(self, username: str, client: str) -> dict[str, int]:
        return {f"user:{username.lower()}|client:{client}": self.per_user,
                f"client:{client}": self.per_client,
                f"account:{username.lower()}": self.account_free}  # fmt: skip

    def account_wait(self, failures: int, since_last: float) -> float:
        """Seconds still to wait after ``failures`` failures on an account, the last one
        ``since_last`` seconds ago: 0 up to ``account_free``, then 1, 2, 4, … seconds."""
        if failures <= self.account_free:
            return 0.0
        delay = min(self.account_max_wait, 2.0 ** (failures - self.account_free - 1))
        return max(0.0, delay - since_last)

    def reserve(self, store: Store, username: str, client: str) -> Attempt:
        """Record an attempt before the password is checked.

        The attempt's ``wait`` is the seconds to wait when a limit is reached (the attempt
        is then taken back and the password must not be checked), else 0.
        """
        now = time.time()
        keys = self.keys(username, client)
        account = f"account:{username.lower()}"
        with store.engine.connect() as connection:
            # the account's failures so far, before this attempt is written
            failures, last = connection.execute(
                select(func.count(), func.max(LoginFailure.at)).where(
                    LoginFailure.key == account, LoginFailure.at > now - self.account_window
                )
            ).one()
        held = self.account_wait(failures + 1, now - last) if last is not None else 0.0
        with store.engine.begin() as connection:
            connection.execute(insert(LoginFailure), [{"key": k, "at": now} for k in keys])
        waits = [held] if held else []
        with store.engine.connect() as connection:
            for key, limit in keys.items():
                if key == account:
                    continue
                count, first = connection.execute(
                    select(func.count(), func.min(LoginFailure.at)).where(
                        LoginFailure.key == key, LoginFailure.at > now - self.window
                    )
                ).one()
                if count > limit:
                    waits.append(self.window - (now - first))
        attempt = Attempt(tuple(keys), now, max(waits, default=0.0))
        if attempt.wait:
            self.forget(store, attempt)
        return attempt

    def forget(self, store: Store, attempt: Attempt) -> None:
        """Take an attempt back: refused by the throttle, or the password was right."""
        with store.engine.begin() as connection:
            connection.execute(
                delete(LoginFailure).where(
                    LoginFailure.key.in_(attempt.keys), LoginFailure.at == attempt.at
                )
            )

    def succeeded(self, store: Store, attempt: Attempt) -> None:
        """A right password: this attempt and the user's failures from this client go."""
        self.forget(store, attempt)
        with store.engine.begin() as connection:
            connection.execute(delete(LoginFailure).where(LoginFailure.key == attempt.keys[0]))
            old = time.time() - max(2 * self.window, self.account_window)
            connection.execute(delete(LoginFailure).where(LoginFailure.at < old))


@dataclass(frozen=True)
class Attempt:
    keys: tuple[str, ...]
    at: float
    wait: float


@dataclass(frozen=True)
class PatientThrottle:
    """Rate limits of the patient's pages, per client, shared by every worker: at most
    ``requests`` requests and ``failures`` unusable links in ``window`` seconds. A guessed
    token (32 random bytes) cannot be found by trying; this keeps a client from trying.
    """

    requests: int = 60
    failures: int = 10
    window: float = 600.0

    def wait(self, store: Store, client: str) -> float:
        """Record this request; seconds the client must wait first (0: go ahead)."""
        now = time.time()
        hits, misses = f"patient-hit:{client}", f"patient-miss:{client}"
        with store.engine.begin() as connection:
            connection.execute(insert(LoginFailure).values(key=hits, at=now))
            since = now - self.window
            counts = {
                key: connection.execute(
                    select(func.count(), func.min(LoginFailure.at)).where(
                        LoginFailure.key == key, LoginFailure.at > since
                    )
                ).one()
                for key in (hits, misses)
            }
            connection.execute(
                delete(LoginFailure).where(
                    LoginFailure.key.in_((hits, misses)), LoginFailure.at <= since
                )
            )
        limits = {hits: self.requests, misses: self.failures}
        waits = [self.window - (now - first) for key, (count, first) in counts.items()
                 if count > limits[key]]  # fmt: skip
        return max(waits, default=0.0)

    def failed(self, store: Store, client: str) -> None:
        """A link that could not be used (unknown, spent, expired or locked)."""
        with store.engine.begin() as connection:
            connection.execute(insert(LoginFailure).values(key=f"patient-miss:{client}",
                                                           at=time.time()))  # fmt: skip
