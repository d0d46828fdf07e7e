"""Run CDISC CORE (cdisc-rules-engine) on a folder that `pustula cdisc sdtm` wrote, with
the rules CORE ships, and print what it said, rule by rule.

CORE is not a dependency of Pustula: it needs Python 3.12 and its rules and library
metadata come with a checkout of its repository (``resources/cache``), not with its PyPI
package. Part of that cache (the SDTMIG variable metadata and recent SDTM terminology)
is downloaded from the CDISC Library with an API key. This script runs CORE with what the
checkout holds: where the library metadata are missing it gives CORE empty ones (CORE's
``--custom-standard`` mode accepts that), so the rules that need them end in "execution
error" and are listed as such, never counted as passed. Run it with the engine's Python:

    ENGINE=/path/to/cdisc-rules-engine        # a checkout, with `pip install .` in .venv
    $ENGINE/.venv/bin/python scripts/cdisc_core.py --engine $ENGINE sdtm-folder/

The last run and what it found are in docs/interop.md ("What CDISC CORE said").
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

#: Library metadata files that come from the CDISC Library, not from the repository.
_LIBRARY_FILES = ("standards_details.pkl", "standards_models.pkl", "variables_metadata.pkl")


def _prepare_cache(engine: Path, cache: Path, key: str) -> list[str]:
    """A copy of the engine's cache where CORE's own rules for ``key`` run as a custom
    standard; the names of the library files it lacked."""
    for path in (engine / "resources" / "cache").glob("*.pkl"):
        shutil.copy(path, cache / path.name)
    missing = [name for name in _LIBRARY_FILES if not (cache / name).exists()]
    for name in missing:
        (cache / name).write_bytes(pickle.dumps({}))
    rules = pickle.loads((cache / "rules_dictionary.pkl").read_bytes())
    if not rules.get(key):
        sys.exit(f"CORE's cache has no rules for {key}")
    (cache / "custom_rules_dictionary.pkl").write_bytes(pickle.dumps({key: rules[key]}))
    (cache / "custom_rules.pkl").write_bytes(pickle.dumps({}))
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder of XPT files")
    parser.add_argument("--engine", type=Path, required=True, help="cdisc-rules-engine checkout")
    parser.add_argument("--standard", default="sdtmig")
    parser.add_argument("--version", default="3-4")
    parser.add_argument("--json", type=Path, help="also keep CORE's own report here")
    args = parser.parse_args()
    key = f"{args.standard}/{args.version}"
    with tempfile.TemporaryDirectory() as tmp:
        cache, report = Path(tmp) / "cache", Path(tmp) / "report"
        cache.mkdir()
        missing = _prepare_cache(args.engine, cache, key)
        command = [
            sys.executable, "core.py", "validate", "-ca", str(cache), "-cs",
            "-s", args.standard, "-v", args.version, "-d", str(args.folder.resolve()),
            "-o", str(report), "-of", "JSON", "-p", "disabled", "-l", "critical",
        ]  # fmt: skip
        subprocess.run(command, cwd=args.engine, check=True, capture_output=True)
        result = json.loads(report.with_suffix(".json").read_text())
        if args.json:
            shutil.copy(report.with_suffix(".json"), args.json)
    details = result["Conformance_Details"]
    print(f"CORE {details['CORE_Engine_Version']}, {details['Standard']} {details['Version']}")
    if missing:
        print(f"library metadata not in the checkout (given empty): {', '.join(missing)}")
    rules = result["Rules_Report"]
    print(f"{len(rules)} rules:", dict(Counter(r["status"] for r in rules)))
    issues = Counter(
        (i["core_id"], i["dataset"], i["message"])
        for i in result["Issue_Details"]
        if not i["message"].startswith("rule evaluation error")
    )
    for rule in rules:
        if rule["status"] == "EXECUTION ERROR":
            print(f"  {rule['core_id']}: could not run ({rule['message']})")
    for (core_id, dataset, message), count in sorted(issues.items()):
        print(f"  {core_id} {dataset}: {message} ({count} records)")


if __name__ == "__main__":
    main()
