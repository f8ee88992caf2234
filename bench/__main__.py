"""Run every benchmark module (or the ones named) and write `bench/results.json`.

Usage: python -m bench [NAME ...]   e.g. `python -m bench core` runs bench/bench_core.py only.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

import bench
from bench.common import Result


def main(names: list[str]) -> int:
    modules = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    chosen = [m for m in modules if not names or m.removeprefix("bench_") in names]
    results: list[Result] = []
    for name in chosen:
        print(f"# {name}", file=sys.stderr)
        for result in importlib.import_module(f"bench.{name}").run():
            print(result.to_json(), flush=True)
            results.append(result)
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    return 0


raise SystemExit(main(sys.argv[1:]))
