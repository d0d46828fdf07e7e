"""The blinding leak crawler: signed in as each blinded role, it visits every page and API
read the role can reach (from the app's own route table, so a new route is crawled without
being listed here), every download and report format, and the audit views, and looks in each
response (inside ZIP archives and PDF text too) for the arm codes, the arm labels and any
kit number written beside an arm. Signed in as the unblinded statistician and the data
monitoring committee, the same crawler finds the arms, so it can fail."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from pustula.demo import trial_protocol
from pustula.store import Store
from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    DataQuery,
    Exposure,
    Lab,
    Subject,
    Visit,
)
from pustula.store.services.trial import emergency_unblind
from tests.web.crawl import crawl

Login = Callable[[str], TestClient]
BLINDED = ("investigator", "monitor", "statistician", "site-b", "admin")
SECRETS = tuple(a.code for a in trial_protocol().arms) + tuple(
    a.label for a in trial_protocol().arms
)
#: T002 is at SITE2, which every demo account sees
CODE = "T002"


def _ids(store: Store) -> dict[str, Any]:
    with store.reader() as session:
        subject = session.scalars(select(Subject).where(Subject.code == CODE)).one()

        def first(model: Any, column: Any = None) -> int | None:
            column = column if column is not None else model.subject_id
            return session.scalar(select(model.id).where(column == subject.id).limit(1))

        visit = first(Visit)
        return {
            "subject": subject.id, "visit": visit, "adverse_event": first(AdverseEvent),
            "lab": first(Lab), "exposure": first(Exposure),
            "assessment": session.scalar(select(Assessment.id).where(
                Assessment.visit_id == visit).limit(1)),
            "query": session.scalar(select(DataQuery.id).limit(1)),
        }  # fmt: skip


def _paths(route: APIRoute, ids: dict[str, Any]) -> list[str]:
    path = route.path.replace("{code}", CODE)
    if "{table}" in path:
        return [path.replace("{table}", t).replace("{record_id}", str(ids[t]))
                for t in ("subject", "visit", "assessment", "adverse_event", "lab", "exposure")
                if ids[t] is not None]  # fmt: skip
    kinds = {"/ae/": "adverse_event", "/labs/": "lab", "/exposure/": "exposure",
             "/visits/": "visit", "/assessments/": "assessment", "/queries/": "query"}  # fmt: skip
    for part, kind in kinds.items():
        if part in path and re.search(r"\{\w+\}", path):
            if ids[kind] is None:
                return []
            path = re.sub(r"\{(record_id|assessment_id|query_id)\}", str(ids[kind]), path)
    if re.search(r"\{\w+\}", path):
        return []  # a record kind the demo trial has none of (a medication, a pause)
    if route.name in ("dmc_open", "dmc_closed"):
        return [path, f"{path}?format=pdf"]  # the DMC report in its other format too
    return [path]


def _crawl(client: TestClient, ids: dict[str, Any]) -> dict[str, list[str]]:
    """Every reachable GET response's hits of an arm code or label, by path."""
    return crawl(client, lambda route: _paths(route, ids),
                 lambda text: [s for s in SECRETS if s in text])  # fmt: skip


@pytest.fixture
def unblinded_once(trial_store: Store) -> Store:
    """One emergency unblinding in the trail, so that its views are crawled too."""
    emergency_unblind(trial_store, "investigator", password="pustula-demo", code=CODE,
                      reason="suspected anaphylaxis")  # fmt: skip
    return trial_store


@pytest.mark.parametrize("account", BLINDED)
def test_no_blinded_role_can_reach_an_arm_anywhere(
    trial_login: Login, unblinded_once: Store, account: str
) -> None:
    client = trial_login(account)
    assert _crawl(client, _ids(unblinded_once)) == {}


@pytest.mark.parametrize("account", ["unblinded-stat", "dmc"])
def test_the_crawler_finds_the_arms_for_the_roles_that_may_see_them(
    trial_login: Login, unblinded_once: Store, account: str
) -> None:
    found = _crawl(trial_login(account), _ids(unblinded_once))
    assert f"/subjects/{CODE}" in found  # the arm on the casebook
    assert f"/api/v1/subjects/{CODE}/randomization" in found
    if account == "unblinded-stat":
        assert "/randomization" in found and "/api/v1/allocation" in found
