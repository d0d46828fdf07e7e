"""schemathesis, in-process, against the app's own OpenAPI schema: no request gives a 500.

Requests carry an admin token, so they reach the handlers instead of stopping at the
access check. Examples are generated with a fixed seed and a bounded count per operation,
both valid (positive) and invalid (negative: wrong types, out-of-range values, missing
fields), since invalid data must get a 4xx, never a 5xx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from pustula.demo import create_demo_study, create_demo_users
from pustula.settings import Settings
from pustula.store import Store
from pustula.store.accounts.users import issue_api_token
from pustula.web import create_app


def _app_and_token(path: Path) -> tuple[object, str]:
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_demo_study(store)
    create_demo_users(store)
    with store.transaction(user="fuzz", reason="token for the fuzz test") as tx:
        token = issue_api_token(tx, "admin")
    return create_app(
        Settings(secret_key="fuzz-secret-0123456789-0123456789-0123"), store=store
    ), token


_TMP = Path(__import__("tempfile").mkdtemp(prefix="pustula-fuzz-"))
APP, TOKEN = _app_and_token(_TMP / "fuzz.sqlite3")
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_request_gives_a_server_error(case: schemathesis.Case) -> None:
    # no time limit that a slow machine could hit: speed is measured in benchmarks
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error], timeout=600
    )
