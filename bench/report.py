"""Write the results as JSON and a Markdown table of ratios to the baselines measured in the same run."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

NOT_YET_MEASURED: list[str] = []


def _f(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Kasse benchmark ({results['mode']} mode, {results['seconds']:g} s per run)", ""]
    lines += [f"Machine: {results['machine']}. Ratio = Kasse ÷ baseline, both measured in this run.", ""]
    if results.get("sizes"):
        sizes = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in results["sizes"].items())
        lines += [f"Sizes: {sizes}. Whole run: {results['elapsed_s']:,.0f} s.", ""]
    if results["scenarios"]:
        lines += ["| scenario | db | conc | req/s | p50 ms | p99 ms | errors | server CPU µs/req | vs baseline "
                  "| baseline req/s | ratio |"]  # fmt: skip
        lines += ["|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for row in results["scenarios"]:
        first = True
        for cmp in row["compared_with"] or [{"baseline": "-", "rps": None, "ratio": None}]:
            head = (
                [row["scenario"], row["database"], str(row["concurrency"]), _f(row["rps"]), _f(row["p50_ms"], 2),
                 _f(row["p99_ms"], 2), str(row["errors"]), _f(row.get("cpu_us_per_request"))]
                if first else [""] * 8
            )  # fmt: skip
            lines.append("| " + " | ".join([*head, cmp["baseline"], _f(cmp["rps"]), _f(cmp["ratio"], 3)]) + " |")
            first = False
    if results["timers"]:
        lines += ["", "| timers: clock advance | db | timers | fired | seconds | fired/s | server CPU µs/timer "
                  "| vs baseline | ratio |"]  # fmt: skip
        lines += ["|---|---|---:|---:|---:|---:|---:|---|---:|"]
        for t in results["timers"]:
            cmp = t.get("compared_with") or {"baseline": "-", "ratio": None}
            lines.append(
                f"| advance 120 s | {t['database']} | {t['timers']:,} | {t['fired']:,} | {t['seconds']:.2f} | "
                f"{t['fired_per_s']:,.0f} | {_f(t.get('cpu_us_per_timer'))} | {cmp['baseline']} "
                f"| {_f(cmp['ratio'], 3)} |"
            )
    lines += _lifecycle(results) + _webhooks(results) + _growth(results) + _pagination(results)
    if results["baselines"]:
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
    lines += _targets(results)
    if results.get("failures"):
        lines += ["", "## Failed scenarios", ""] + [f"- {f['scenario']}: `{f['error']}`" for f in results["failures"]]
    if NOT_YET_MEASURED:
        lines += ["", "## Not yet measured", ""] + [f"- {item}" for item in NOT_YET_MEASURED]
    return "\n".join(lines) + "\n"


def _cmp(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["baseline"] + (f" (c={c['concurrency']})" if "concurrency" in c else ""), _f(c["ratio"], 3))
            for c in row.get("compared_with") or []]  # fmt: skip


def _lifecycle(results: dict[str, Any]) -> list[str]:
    if not results.get("lifecycle"):
        return []
    lines = ["", "## Full Sofort lifecycle (create → approve → settle by clock → `payment.succeeded` delivered)", ""]
    lines += ["| db | conc | payments | payments/s | seconds | create+approve s | advance s | after advance s "
              "| webhooks expected / received | create p50 ms | approve p50 ms | retried | server CPU µs/payment "
              "| vs baseline | ratio |"]  # fmt: skip
    lines += ["|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|"]
    for r in results["lifecycle"]:
        cmps = _cmp(r) or [("-", "-")]
        for i, (name, ratio) in enumerate(cmps):
            head = (
                [r["database"], str(r["concurrency"]), f"{r['payments']:,}", _f(r["payments_per_s"]),
                 _f(r["seconds"], 2), _f(r["create_approve_s"], 2), _f(r["advance_s"], 2), _f(r["after_advance_s"], 2),
                 f"{r['webhooks_expected']:,} / {r['webhooks_received']:,}", _f(r["create_p50_ms"], 1),
                 _f(r["approve_p50_ms"], 1), str(r.get("transport_retries", 0)), _f(r.get("cpu_us_per_payment"))]
                if i == 0 else [""] * 13
            )  # fmt: skip
            lines.append("| " + " | ".join([*head, name, ratio]) + " |")
    return lines


def _webhooks(results: dict[str, Any]) -> list[str]:
    if not results.get("webhooks"):
        return []
    lines = ["", "## Webhook delivery (outbox filled before start; the delivery worker sends to the receiver)", ""]
    lines += [
        "| db | deliveries | delivered | deliveries/s | seconds (first → last) | server CPU µs/delivery | vs baseline "
        "| baseline req/s | ratio |"
    ]
    lines += ["|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in results["webhooks"]:
        for i, c in enumerate(r["compared_with"]):
            head = (
                [r["database"], f"{r['deliveries']:,}", f"{r['delivered']:,}", _f(r["deliveries_per_s"]),
                 _f(r["seconds"], 2), _f(r.get("cpu_us_per_delivery"))]
                if i == 0 else [""] * 6
            )  # fmt: skip
            cell = f"{c['baseline']} (c={c['concurrency']})"
            lines.append("| " + " | ".join([*head, cell, _f(c["rps"]), _f(c["ratio"], 4)]) + " |")
    return lines


def _growth(results: dict[str, Any]) -> list[str]:
    if not results.get("growth") or "growth" not in results.get("only", ["growth"]):
        return []
    lines = ["", "## Growth (concurrency 16; read = a random stored payment)", ""]
    lines += [
        "| db | what | stored | p50 ms | p99 ms | req/s | stored | p50 ms | p99 ms | req/s | p50 ratio large ÷ small |"
    ]
    lines += ["|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["growth"]:
        for what in ("create", "read"):
            sm, lg = r["small"][what], r["large"][what]
            cells = [r["database"], f"{what} payment", f"{r['stored_small']:,}", _f(sm["p50_ms"], 2),
                     _f(sm["p99_ms"], 2), _f(sm["rps"]), f"{r['stored_large']:,}", _f(lg["p50_ms"], 2),
                     _f(lg["p99_ms"], 2), _f(lg["rps"]), _f(r["ratios"][what], 3)]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pagination(results: dict[str, Any]) -> list[str]:
    if not results.get("growth") or "pagination" not in results.get("only", ["pagination"]):
        return []
    lines = ["", "## List pagination (`GET /api/v1/payments?limit=100`, one client)", ""]
    lines += ["| db | stored | first page p50 ms | first page req/s | deep page position | deep p50 ms | deep req/s "
              "| p50 ratio deep ÷ first |"]  # fmt: skip
    lines += ["|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["growth"]:
        p = r["pagination"]
        cells = [r["database"], f"{r['stored_large']:,}", _f(p["first"]["p50_ms"], 2), _f(p["first"]["rps"]),
                 f"{p['deep_position']:,}", _f(p["deep"]["p50_ms"], 2), _f(p["deep"]["rps"]),
                 _f(p["ratio_p50"], 3)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _targets(results: dict[str, Any]) -> list[str]:
    """The issue's bar, each target as measured in this run."""
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(target: str, where: str, value: str, met: bool | None) -> None:
        rows.append((target, where, value, met))

    creates = [r for r in results["scenarios"] if r["scenario"] == "create payment"]
    for r in creates:
        top = max(c["concurrency"] for c in creates if c["database"] == r["database"])
        if r["concurrency"] != top:
            continue
        where = f"{r['database']}, c={r['concurrency']}"
        add("create ≥ 2,400/s", where, _f(r["rps"]), r["rps"] >= 2400)
        for c in r["compared_with"]:
            if c["baseline"].startswith("b:"):
                add("create ≥ 50% of (b)", where, f"{c['ratio']:.0%}", c["ratio"] >= 0.5)
            if c["baseline"].startswith("c:"):
                add("create ≥ 40% of pgbench (c)", where, f"{c['ratio']:.0%}", c["ratio"] >= 0.4)
        if r["database"] == "postgresql" and r["concurrency"] == 64:
            add("create p99 < 25 ms at c=64", where, f"{r['p99_ms']:.1f} ms", r["p99_ms"] < 25)
    for r in results.get("lifecycle", []):
        where = f"{r['database']}, c={r['concurrency']}, {r['payments']:,} payments"
        add("lifecycle ≥ 500 payments/s, every webhook", where, _f(r["payments_per_s"]),
            r["payments_per_s"] >= 500 and r["complete"])  # fmt: skip
    for r in results.get("webhooks", []):
        add("webhook delivery ≥ 2,000/s", f"{r['database']}, {r['deliveries']:,}", _f(r["deliveries_per_s"]),
            r["deliveries_per_s"] >= 2000)  # fmt: skip
    for t in results.get("timers", []):
        add(
            "timers ≥ 20,000 fired/s",
            f"{t['database']}, {t['timers']:,}",
            _f(t["fired_per_s"]),
            t["fired_per_s"] >= 20000,
        )
    if "growth" in results.get("only", []):
        for r in results.get("growth", []):
            for what in ("create", "read"):
                ratio = r["ratios"][what]
                add(f"growth: {what} p50 at large ≤ 1.3 x small", f"{r['database']}, {r['stored_small']:,} → "
                    f"{r['stored_large']:,}", _f(ratio, 2), ratio is not None and ratio <= 1.3)  # fmt: skip
    for res in results.get("resources", []):
        if res["value"] is None:
            continue
        if res["what"].startswith("rss"):
            add("RSS < 200 MB", f"{res['database']}: {res['what']}", f"{res['value']:.0f} MB", res["value"] < 200)
        if res["what"].startswith("time_to_healthy"):
            add("healthy within 2 s", f"{res['database']}: {res['what']}", f"{res['value']:.2f} s", res["value"] <= 2)
    if not rows:
        return []
    lines = ["", "## Targets (the bar of issues 4 and 17), as measured in this run", "", "| target | where | measured | met |"]
    lines += ["|---|---|---:|---|"]
    for target, where, value, met in rows:
        lines.append(f"| {target} | {where} | {value} | {'yes' if met else 'no'} |")
    return lines


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
