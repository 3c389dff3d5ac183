"""The mutation score after `mutmut run` (`make mutation`): per module and overall, mutants
killed over all mutants made (a timeout counts as killed; a mutant no test reaches, as not).

Reads mutmut's own records (mutants/**/*.meta) and its exit-code meanings, and prints one row
per module, the total, and every mutant that survived or that no test reached.

    .venv/bin/python benchmarks/mutation_score.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check"}


def main() -> None:
    counts: dict[str, Counter[str]] = {}
    left: list[tuple[str, str]] = []
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        module = str(meta.relative_to("mutants")).removesuffix(".meta")
        statuses = {key: status_by_exit_code[code] for key, code in json.loads(meta.read_text())["exit_code_by_key"].items()}
        if not statuses:
            continue
        counts[module] = Counter(statuses.values())
        left += [(key, status) for key, status in statuses.items() if status not in KILLED]
    if not counts:
        raise SystemExit("no mutation results: run `make mutation`")
    print(f"{'module':<28} {'mutants':>8} {'killed':>8} {'score':>7}")
    total: Counter[str] = Counter()
    for module, count in counts.items():
        total += count
        killed = sum(count[status] for status in KILLED)
        print(f"{module:<28} {sum(count.values()):>8} {killed:>8} {killed / sum(count.values()):>7.1%}")
    killed = sum(total[status] for status in KILLED)
    print(f"{'all':<28} {sum(total.values()):>8} {killed:>8} {killed / sum(total.values()):>7.1%}")
    print(f"\nnot killed ({len(left)}; `.venv/bin/mutmut show NAME` prints one):")
    for key, status in left:
        print(f"  {key}: {status}")


if __name__ == "__main__":
    main()
