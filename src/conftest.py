"""What the docstring examples of ``src/pustula`` may use (``pytest --doctest-modules``).

``demo_store()`` gives an example a store of its own holding the SYNTHETIC demo study (a
copy of one made per run, so that an example that saves changes nothing for the next);
``demo_analysis()`` its analysis with the protocol's plan; ``trial_store()`` the SYNTHETIC
demo trial's study and sites before its allocation list is generated. Examples run in a temporary
folder, so a file an example writes goes there. Not part of the installed package.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# One installation's keys for the run, as tests/conftest.py sets them for the tests.
os.environ.setdefault("PUSTULA_AUDIT_KEY", "pustula-test-audit-key-" + "7" * 41)
if "PUSTULA_SIGNING_KEY_FILE" not in os.environ:
    _KEY_FILE = Path(tempfile.mkdtemp(prefix="pustula-doctest-key-")) / "signing-key.pem"
    from pustula.store.keys.signing import new_private_pem

    _KEY_FILE.write_bytes(new_private_pem())
    os.environ["PUSTULA_SIGNING_KEY_FILE"] = str(_KEY_FILE)


@pytest.fixture(scope="session")
def _demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pustula.demo import create_demo_study
    from pustula.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_demo_study(store)
    store.dispose()
    return path


@pytest.fixture(scope="session")
def _trial_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pustula.demo_trial import create_trial_study
    from pustula.store import Store

    path = tmp_path_factory.mktemp("trial") / "trial.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_trial_study(store, allocate=False)
    store.dispose()
    return path


@pytest.fixture(scope="session")
def _randomized_trial_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pustula.demo_trial import create_trial_study
    from pustula.store import Store

    path = tmp_path_factory.mktemp("randomized") / "trial.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    store.create_schema()
    create_trial_study(store)
    store.dispose()
    return path


@pytest.fixture(autouse=True)
def _examples_namespace(
    request: pytest.FixtureRequest,
    doctest_namespace: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    opened: list[Any] = []

    def demo_store() -> Any:
        from pustula.store import Store

        copy = tmp_path / f"demo-{len(opened)}.sqlite3"
        shutil.copyfile(request.getfixturevalue("_demo_database"), copy)
        store = Store.open(f"sqlite:///{copy}", must_exist=True)
        opened.append(store)
        return store

    def trial_store() -> Any:
        """The SYNTHETIC demo trial's study and sites, before its allocation list."""
        from pustula.store import Store

        copy = tmp_path / f"trial-{len(opened)}.sqlite3"
        shutil.copyfile(request.getfixturevalue("_trial_database"), copy)
        store = Store.open(f"sqlite:///{copy}", must_exist=True)
        opened.append(store)
        return store

    def unblinded_trial_store() -> Any:
        """The SYNTHETIC demo trial with its 90 randomized subjects."""
        from pustula.store import Store

        copy = tmp_path / f"randomized-{len(opened)}.sqlite3"
        shutil.copyfile(request.getfixturevalue("_randomized_trial_database"), copy)
        store = Store.open(f"sqlite:///{copy}", must_exist=True)
        opened.append(store)
        return store

    def demo_analysis() -> Any:
        from pustula.analysis import build_analysis
        from pustula.store.transfer.extract import read_study

        return build_analysis(read_study(demo_store()))

    namespace: dict[str, Callable[[], Any]] = {
        "demo_store": demo_store,
        "demo_analysis": demo_analysis,
        "trial_store": trial_store,
        "unblinded_trial_store": unblinded_trial_store,
    }
    doctest_namespace.update(namespace)
    yield
    for store in opened:
        store.dispose()
