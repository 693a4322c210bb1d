"""Write the results as JSON and a Markdown table of ratios to the baselines measured in the same run."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

NOT_YET_MEASURED = [
    "full Sofort lifecycle (create → approve → settle by clock → webhook delivered to a local receiver)",
    "webhook delivery throughput",
    "list pagination deep into a large table",
    "growth: create and read latencies with 1,000 and 1,000,000 payments stored",
    "server RSS after the growth test",
]


def _f(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Kasse benchmark ({results['mode']} mode, {results['seconds']:g} s per run)", ""]
    lines += [f"Machine: {results['machine']}. Ratio = Kasse ÷ baseline, both measured in this run.", ""]
    lines += ["| scenario | db | conc | req/s | p50 ms | p99 ms | errors | vs baseline | baseline req/s | ratio |"]
    lines += ["|---|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for row in results["scenarios"]:
        first = True
        for cmp in row["compared_with"] or [{"baseline": "-", "rps": None, "ratio": None}]:
            head = (
                [row["scenario"], row["database"], str(row["concurrency"]), _f(row["rps"]), _f(row["p50_ms"], 2),
                 _f(row["p99_ms"], 2), str(row["errors"])]
                if first else ["", "", "", "", "", "", ""]
            )  # fmt: skip
            lines.append("| " + " | ".join([*head, cmp["baseline"], _f(cmp["rps"]), _f(cmp["ratio"], 3)]) + " |")
            first = False
    if results["timers"]:
        lines += ["", "| timers: clock advance | db | timers | fired | seconds | fired/s | vs baseline | ratio |"]
        lines += ["|---|---|---:|---:|---:|---:|---|---:|"]
        for t in results["timers"]:
            cmp = t.get("compared_with") or {"baseline": "-", "ratio": None}
            lines.append(
                f"| advance 120 s | {t['database']} | {t['timers']:,} | {t['fired']:,} | {t['seconds']:.2f} | "
                f"{t['fired_per_s']:,.0f} | {cmp['baseline']} | {_f(cmp['ratio'], 3)} |"
            )
    lines += ["", "## Baselines", "", "| baseline | conc | req/s or tx/s | p50 ms | p99 ms | errors |"]
    lines += ["|---|---:|---:|---:|---:|---:|"]
    for b in results["baselines"]:
        lines.append(
            f"| {b['name']} | {b['concurrency']} | {_f(b['rps'])} | {_f(b['p50_ms'], 2)} | {_f(b['p99_ms'], 2)} "
            f"| {b['errors']} |"
        )
    if results["resources"]:
        lines += ["", "## Resources", "", "| what | db | value |", "|---|---|---:|"]
        for r in results["resources"]:
            lines.append(f"| {r['what']} | {r['database']} | {_f(r['value'], 2)} |")
    lines += ["", "## Not yet measured", ""] + [f"- {item}" for item in NOT_YET_MEASURED]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    results = {**results, "not_yet_measured": NOT_YET_MEASURED}
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path


def machine() -> str:
    import os

    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
