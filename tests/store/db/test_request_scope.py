"""Every request starts with one read: the user behind the token or session, and the subject."""

from __future__ import annotations

from datetime import date

import pytest

from pustula.store import Store, get_study, remove
from pustula.store.accounts.users import add_user, api_token_hash, issue_api_token
from pustula.store.db.models import Subject, User
from pustula.store.monitoring.queries import request_scope
from tests.store.helpers import enrol, make_study


@pytest.fixture
def token(store: Store) -> str:
    study = make_study(store)
    enrol(store, study, code="S01")
    enrol(store, study, code="S02")
    with store.transaction(user="tester") as tx:
        add_user(tx, username="ines", password="a long password", role="investigator",
                 sites=["A"])  # fmt: skip
    with store.transaction(user="tester", reason="API access") as tx:
        return issue_api_token(tx, "ines")


def _scope(store: Store, token: str, code: str | None = None) -> object:
    with store.read_connection() as connection:
        return request_scope(connection, token_hash=api_token_hash(token), subject_code=code)


def test_the_token_gives_the_user_and_the_subject_with_site_and_protocol(
    store: Store, token: str
) -> None:
    with store.reader() as session:
        scope = request_scope(
            session.connection(), token_hash=api_token_hash(token), subject_code="S02"
        )
        study = get_study(session)
    assert scope is not None
    assert (scope.user.username, scope.user.role, scope.user.sites) == (
        "ines",
        "investigator",
        ["A"],
    )
    assert scope.subject is not None and scope.subject.code == "S02"
    assert scope.subject.status == "enrolled" and scope.site == "A"
    assert scope.protocol is not None and scope.protocol.version == study.protocol_version


def test_a_web_session_works_the_same(store: Store, token: str) -> None:
    from pustula.store.accounts.sessions import session_hash, start_session

    with store.reader() as session:
        user_id = session.query(User.id).filter(User.username == "ines").scalar()
    signed_in = session_hash(start_session(store, user_id))
    with store.read_connection() as connection:
        scope = request_scope(connection, session_hash=signed_in, subject_code="S01")
        plain = request_scope(connection, session_hash=signed_in)
        stranger = request_scope(connection, session_hash=session_hash("not-a-session"))
    assert scope is not None and scope.subject is not None and scope.subject.code == "S01"
    assert plain is not None and plain.subject is None
    assert plain.study is not None and plain.study.code == scope.study.code  # type: ignore[union-attr]
    assert stranger is None


def test_an_unknown_or_removed_subject_is_none_but_the_user_is_known(
    store: Store, token: str
) -> None:
    with store.transaction(user="tester", reason="enrolled in error") as tx:
        s02 = tx.session.query(Subject).filter(Subject.code == "S02").one()
        remove(tx, s02, expected_version=s02.version)
    for code in ("S99", "S02"):
        scope = _scope(store, token, code)
        assert scope is not None and scope.subject is None  # type: ignore[attr-defined]


def test_a_wrong_token_or_an_inactive_user_gives_nothing(store: Store, token: str) -> None:
    assert _scope(store, "pst_" + "x" * 43, "S01") is None
    with store.read_connection() as connection:
        assert request_scope(connection) is None
    with store.transaction(user="tester", reason="left the study") as tx:
        ines = tx.session.query(User).filter(User.username == "ines").one()
        ines.active = False
    assert _scope(store, token, "S01") is None


def test_text_that_is_not_an_api_token_has_no_hash() -> None:
    assert api_token_hash("Bearer something") is None
    assert api_token_hash("pst_abc") == api_token_hash("pst_abc") is not None


def _second_study(store: Store) -> None:
    """Study B: another protocol id, its own sites, and a subject S01 of its own."""
    from pustula.protocol import load_protocol
    from pustula.store import add_study, enrol_subject
    from tests.store.helpers import BASELINE, LABS, PRIOR, PROTOCOL

    protocol = load_protocol(PROTOCOL).model_copy(update={"id": "OTHER-PPP"})
    with store.transaction(user="tester") as tx:
        other = add_study(tx, protocol, sites=[("Z", "Site Z")])
    with store.transaction(user="tester") as tx:
        enrol_subject(tx, other, code="S01", site="Z", screened_on=date(2024, 3, 1),
                      baseline=BASELINE, prior_therapies=PRIOR, screening_labs=LABS)  # fmt: skip


def test_each_study_gives_its_own_subject_and_the_role_held_there(store: Store, token: str) -> None:
    _second_study(store)
    hashed = api_token_hash(token)
    with store.read_connection() as connection:
        first = request_scope(connection, token_hash=hashed, subject_code="S01",
                              study_code="TOFA-PPP")  # fmt: skip
        other = request_scope(connection, token_hash=hashed, subject_code="S01",
                              study_code="OTHER-PPP")  # fmt: skip
        oldest = request_scope(connection, token_hash=hashed, subject_code="S01")
    assert first is not None and first.subject is not None and first.site == "A"
    assert first.user.role == "investigator"
    # ines holds no role in the other study: no role, no sites, and not its subject
    assert other is not None and other.study is not None and other.study.code == "OTHER-PPP"
    assert (other.user.role, other.user.sites, other.subject) == ("", [], None)
    # no study named: the oldest one (the server's first study)
    assert oldest is not None and oldest.study is not None and oldest.study.code == "TOFA-PPP"


def test_a_role_granted_in_the_other_study_opens_its_subjects(store: Store, token: str) -> None:
    from pustula.store.accounts.studies import grant_role, studies_of

    _second_study(store)
    with store.transaction(user="tester", reason="monitors study B") as tx:
        ines = tx.session.query(User).filter(User.username == "ines").one()
        grant_role(tx, ines, get_study(tx.session, "OTHER-PPP"), role="monitor", sites=["Z"])
    with store.read_connection() as connection:
        other = request_scope(connection, token_hash=api_token_hash(token), subject_code="S01",
                              study_code="OTHER-PPP")  # fmt: skip
    assert other is not None and other.subject is not None and other.site == "Z"
    assert (other.user.role, other.user.sites) == ("monitor", ["Z"])
    with store.reader() as session:
        held = [(s.code, s.role, s.sites) for s in studies_of(session, ines.id)]
    assert held == [("TOFA-PPP", "investigator", ("A",)), ("OTHER-PPP", "monitor", ("Z",))]


def test_a_site_of_another_study_cannot_be_granted(store: Store, token: str) -> None:
    from pustula.errors import DataValidationError
    from pustula.store.accounts.studies import grant_role

    _second_study(store)
    with pytest.raises(DataValidationError, match="Z is not a site of study TOFA-PPP"):
        with store.transaction(user="tester", reason="x") as tx:
            ines = tx.session.query(User).filter(User.username == "ines").one()
            grant_role(tx, ines, get_study(tx.session, "TOFA-PPP"), role="monitor", sites=["Z"])


def test_a_server_administrator_is_administrator_in_every_study(store: Store) -> None:
    make_study(store)
    _second_study(store)
    with store.transaction(user="tester") as tx:
        add_user(tx, username="root", password="a long password", role="admin", sites=["*"])
    with store.transaction(user="tester", reason="API access") as tx:
        token = issue_api_token(tx, "root")
    with store.read_connection() as connection:
        scope = request_scope(connection, token_hash=api_token_hash(token), subject_code="S01",
                              study_code="OTHER-PPP")  # fmt: skip
    assert scope is not None and scope.server_admin and scope.site == "Z"
    assert (scope.user.role, scope.user.sites) == ("admin", ["*"])
