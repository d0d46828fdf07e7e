"""Importing a REDCap records export of 1,000,000 rows, against the engine's own bulk load.

    uv run python benchmarks/bench_redcap_import.py [--rows 1000000] [--subjects 2000]
    # PostgreSQL as well: set PUSTULA_TEST_POSTGRES_URL (see benchmarks/README.md)

Seeds the synthetic registry of ``bench_report.py`` (2,000 subjects; not timed), exports
it as REDCap records (one row per record and event, repeating forms for study drug, labs
and AEs; not timed), and copies its casebooks under new record ids until the file has
``--rows`` rows. Then, in a fresh process per database engine (so that its peak memory is
the import's own), times what ``pustula redcap import`` does: read and check every row,
enrol every subject with every record, score and check every visit, keep the file and
write one audit entry per casebook, in one transaction.

The baseline, measured in the same process right after: the stored rows of every table,
read back, deleted, and loaded again by the engine with no checks at all (SQLite:
``executemany`` in one transaction; PostgreSQL: ``COPY``). Target (issue 29): the import
takes at most 2x the baseline, and peaks under 1 GB of memory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def copied(text: str, rows: int) -> str:
    """The export with its casebooks copied under new record ids up to at least ``rows``."""
    header, *body = text.splitlines()
    copies = math.ceil(rows / len(body))
    out = [header]
    for k in range(copies):
        for line in body:
            code, rest = line.split(",", 1)
            out.append(f"{code}-{k},{rest}")
    return "\n".join(out) + "\n"


def write_file(path: Path, rows: int, subjects: int) -> tuple[int, str]:
    """The REDCap file of at least ``rows`` rows, and the protocol (YAML) it was written for."""
    import numpy as np
    from bench_report import seed

    from pustula.interop.redcap_records import export_records
    from pustula.store import Store, get_study
    from pustula.store.records.study import protocol_of
    from pustula.store.services.clinical import casebooks

    source = Store.open(f"sqlite:///{path.with_suffix('.sqlite3')}")
    source.create_schema()
    seed(source, subjects, np.random.default_rng(20261129))
    with source.reader() as session:
        study = get_study(session)
        protocol, protocol_yaml = protocol_of(study), study.protocol_yaml
    text = copied(export_records(casebooks(source), protocol), rows)
    path.write_text(text, encoding="utf-8")
    return text.count("\n") - 1, protocol_yaml


def run_import(file: Path, url: str, protocol_yaml: str) -> dict[str, Any]:
    """In this (fresh) process: the import, then the engine's bulk load of the same rows."""
    import yaml

    from pustula.interop.redcap_stream import stream_records
    from pustula.protocol import parse_protocol
    from pustula.store import Store, add_study
    from pustula.store.audit.sources import ImportSource
    from pustula.store.services.clinical import import_subjects

    protocol = parse_protocol(yaml.safe_load(protocol_yaml))
    store = Store.open(url)
    store.create_schema()
    with store.transaction(user="bench") as tx:
        add_study(tx, protocol, sites=[("S1", "Site")])
    start = time.perf_counter()
    source = ImportSource(file.name, file.read_bytes(), "redcap-records")
    subjects = stream_records(source.content, protocol, {})  # as `pustula redcap import`
    parsed = time.perf_counter() - start
    import_subjects(store, "bench", subjects, reason="benchmark", source=source)
    imported = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del subjects, source
    baseline, stored = bulk_load(store)
    return {"parsed": parsed, "imported": imported, "baseline": baseline, "stored": stored,
            "peak_mb": peak_mb}  # fmt: skip


def bulk_load(store: Any) -> tuple[float, int]:
    """Seconds for the engine to load the import's stored rows again, with no checks:
    the rows as stored (read back raw), loaded with the engine's fastest path."""
    from sqlalchemy import delete

    from pustula.store.db.models import Base
    from pustula.store.transfer.bulk import TABLE_ORDER

    tables = [Base.metadata.tables[t] for t in TABLE_ORDER]
    postgres = store.engine.dialect.name == "postgresql"
    held: dict[str, Any] = {}
    count = 0
    with store.engine.connect() as connection:
        for table in tables:
            names = ", ".join(f'"{c.name}"' for c in table.columns)
            if postgres:
                raw = connection.connection.driver_connection
                with (
                    raw.cursor() as cursor,
                    cursor.copy(  # type: ignore[union-attr]
                        f'COPY "{table.name}" ({names}) TO STDOUT'
                    ) as copy,
                ):
                    held[table.name] = b"".join(bytes(block) for block in copy)
                count += held[table.name].count(b"\n")
            else:
                query = f'SELECT {names} FROM "{table.name}"'
                held[table.name] = [tuple(r) for r in connection.exec_driver_sql(query)]
                count += len(held[table.name])
    with store.engine.begin() as connection:
        for table in reversed(tables):
            connection.execute(delete(table))
    start = time.perf_counter()
    with store.engine.begin() as connection:
        for table in tables:
            names = ", ".join(f'"{c.name}"' for c in table.columns)
            if postgres:
                raw = connection.connection.driver_connection
                with (
                    raw.cursor() as cursor,
                    cursor.copy(  # type: ignore[union-attr]
                        f'COPY "{table.name}" ({names}) FROM STDIN'
                    ) as copy,
                ):
                    copy.write(held[table.name])
            elif held[table.name]:
                marks = ", ".join("?" for _ in table.columns)
                statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
                connection.exec_driver_sql(statement, held[table.name])
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=2_000, help="distinct casebooks")
    parser.add_argument("--child", nargs=3, metavar=("FILE", "URL", "PROTOCOL"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.child:
        file, url, protocol = args.child
        print(json.dumps(run_import(Path(file), url, Path(protocol).read_text())))
        return
    os.environ.setdefault("PUSTULA_AUDIT_KEY", "bench-audit-key-" + "0" * 48)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        file = root / "records.csv"
        rows, protocol_yaml = write_file(file, args.rows, args.subjects)
        (root / "protocol.yaml").write_text(protocol_yaml)
        engines = [("sqlite", f"sqlite:///{root / 'target.sqlite3'}")]
        if os.environ.get("PUSTULA_TEST_POSTGRES_URL"):
            from tests.conftest import reset_postgres

            reset_postgres(os.environ["PUSTULA_TEST_POSTGRES_URL"])
            engines.append(("postgresql", os.environ["PUSTULA_TEST_POSTGRES_URL"]))
        print(f"{rows:,} REDCap rows ({file.stat().st_size / 1e6:.0f} MB)")
        for name, url in engines:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(file), url, str(root / "protocol.yaml")],
                capture_output=True, text=True, check=False, env=os.environ,
            )  # fmt: skip
            if child.returncode != 0:
                sys.exit(child.stderr)
            r = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{name:<10} import {r['imported']:6.1f} s (rows located in "
                  f"{r['parsed']:.1f} s); engine bulk load of the same {r['stored']:,} rows "
                  f"{r['baseline']:5.1f} s; ratio {r['imported'] / r['baseline']:.2f} "
                  f"(target <= 2); peak memory {r['peak_mb']:,.0f} MB (target < 1,024)"
                  )  # fmt: skip


if __name__ == "__main__":
    main()
