"""Run Kasse's benchmark suite: `python -m bench.run [--quick] [--only create,read,...] [--out DIR]`.

Every figure is printed as a ratio to a baseline measured on this machine in the same run; results go to
DIR/results.json and DIR/results.md (default bench/results/).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import baselines, flows, growth, report, scenarios, servers
from bench.loadgen import Load
from kasse.delivery.worker import SEND_CONCURRENCY

SCENARIOS = ("create", "read", "stripe", "timers", "lifecycle", "webhooks", "growth", "pagination")
DATABASES = ("sqlite", "postgresql")
SIZES = ("timers", "lifecycle_payments", "deliveries", "growth_small", "growth_large")
NAMES = {
    "a": "a: Starlette JSON route",
    "b": "b: FastAPI 10-field Pydantic POST",
    "c": "c: pgbench payment transaction",
    "d": "d: SQLite WAL, one thread",
    "e": "e: bench webhook receiver (wrk POST)",
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="concurrency 16 only, 2 s per run, small counts (see bench/README.md)"
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {SCENARIOS}")
    parser.add_argument("--database", default=",".join(DATABASES), help=f"comma-separated subset of {DATABASES}")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--seconds", type=float, help="seconds per measured run (default 3 quick, 10 full)")
    parser.add_argument("--concurrency", help="comma-separated client counts (default 16 quick, 1,16,64 full)")
    parser.add_argument("--timers", type=int, help="due timers for the clock-advance scenario (2,000 / 100,000)")
    parser.add_argument("--lifecycle-payments", type=int, help="payments per lifecycle run (100 / 1,000)")
    parser.add_argument("--deliveries", type=int, help="pending deliveries for the delivery scenario (200 / 2,000)")
    parser.add_argument("--growth-small", type=int, help="payments stored for the small growth point (1,000)")
    parser.add_argument("--growth-large", type=int, help="payments stored for the large point (20,000 / 1,000,000)")
    args = parser.parse_args(argv)
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    args.database = [d.strip() for d in args.database.split(",") if d.strip()]
    if unknown := (args.only - set(SCENARIOS)) | (set(args.database) - set(DATABASES)):
        parser.error(f"unknown scenario or database: {', '.join(sorted(unknown))}")
    args.seconds = args.seconds or (2.0 if args.quick else 10.0)
    default_c = "16" if args.quick else "1,16,64"
    args.concurrency = [int(c) for c in (args.concurrency or default_c).split(",")]
    args.timers = args.timers or (2_000 if args.quick else 100_000)
    args.lifecycle_payments = args.lifecycle_payments or (100 if args.quick else 1_000)
    args.deliveries = args.deliveries or (200 if args.quick else 2_000)
    args.growth_small = args.growth_small or 1_000
    args.growth_large = args.growth_large or (20_000 if args.quick else 1_000_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    secs, cs, only = args.seconds, args.concurrency, args.only
    base: dict[tuple[str, int], Load] = {}
    started = time.perf_counter()

    def baseline(key: str, c: int, measure: Any) -> Load:
        if (key, c) not in base:
            log(f"baseline {NAMES[key]} at concurrency {c}")
            base[(key, c)] = measure()
        return base[(key, c)]

    for c in cs:
        if "read" in only:
            baseline("a", c, lambda c=c: baselines.starlette_json(c, secs))
        if only & {"create", "stripe"}:
            baseline("b", c, lambda c=c: baselines.fastapi_model(c, secs))
    if "sqlite" in args.database and only & {"create", "stripe", "timers"}:
        baseline("d", 1, lambda: baselines.sqlite_wal(min(secs, 3.0)))

    failures: list[dict[str, str]] = []

    def guarded(name: str, measure: Any, *params: Any) -> Any:
        """Run one scenario; a failure is logged and reported, and the suite goes on with the others."""
        try:
            return measure(*params)
        except Exception as exc:
            log(f"FAILED {name}: {exc!r}\n{traceback.format_exc()}servers' output: {servers.LOGS}/")
            failures.append({"scenario": name, "error": repr(exc)[:500]})
            return None

    rows: list[dict[str, Any]] = []
    resources: list[dict[str, Any]] = []
    runs = []
    for kind in args.database:
        if only & {"create", "read"}:
            log(f"kasse on {kind}: {sorted(only & {'create', 'read'})} at concurrency {cs}")
            run = guarded(f"create/read on {kind}", scenarios.create_and_read, kind, cs, secs, only)
            if run is not None:
                runs.append(run)
        if "stripe" in only:
            log(f"kasse on {kind}: the Stripe path (sources, then charges) at concurrency {cs}")
            run = guarded(f"stripe on {kind}", scenarios.stripe_path, kind, cs, secs)
            if run is not None:
                runs.append(run)
    if "postgresql" in args.database and only & {"create", "stripe"}:
        servers.recreate_pg_database()
        for c in cs:
            baseline("c", c, lambda c=c: baselines.pgbench(c, secs))

    for run in runs:
        for (name, c), load in run.loads.items():
            compared = []
            if name == "read payment":
                compared.append(("a", c))
            else:
                compared += [("b", c), ("c", c) if run.database == "postgresql" else ("d", 1)]
            rows.append(
                {
                    "scenario": name,
                    "database": run.database,
                    "concurrency": c,
                    **load.as_dict(),
                    "compared_with": [
                        {"baseline": NAMES[k], "rps": base[(k, bc)].rps, "ratio": load.rps / base[(k, bc)].rps}
                        for k, bc in compared
                    ],
                }
            )
        resources += [{"what": what, "database": run.database, "value": v} for what, v in run.resources.items()]

    timer_rows: list[dict[str, Any]] = []
    if "timers" in only:
        for kind in args.database:
            log(f"timers on {kind}: seeding {args.timers:,} payments, then one clock advance")
            result = guarded(f"timers on {kind}", scenarios.timers, kind, args.timers)
            if result is None:
                continue
            if kind == "postgresql":
                ref = baseline("c", 1, lambda: baselines.pgbench(1, min(secs, 3.0)))
                key = "c"
            else:
                ref, key = base[("d", 1)], "d"
            result["compared_with"] = {"baseline": f"{NAMES[key]} (1 client)", "ratio": result["fired_per_s"] / ref.rps}
            timer_rows.append(result)
            resources += [
                {"what": "time_to_healthy_s (timers seeded)", "database": kind, "value": result["time_to_healthy_s"]},
                {"what": "rss_after_clock_advance_mb", "database": kind, "value": result["rss_after_mb"]},
            ]

    lifecycle_rows: list[dict[str, Any]] = []
    if "lifecycle" in only:
        for kind in args.database:
            log(f"lifecycle on {kind}: {args.lifecycle_payments:,} payments at concurrency {cs}")
            lifecycle = guarded(f"lifecycle on {kind}", flows.lifecycle, kind, cs, args.lifecycle_payments)
            if not lifecycle:
                continue
            for row in lifecycle:
                c = row["concurrency"]
                refs = [("b", c, lambda c=c: baselines.fastapi_model(c, secs))]
                if kind == "postgresql":
                    refs.append(("c", c, lambda c=c: baselines.pgbench(c, secs)))
                else:
                    refs.append(("d", 1, lambda: baselines.sqlite_wal(min(secs, 3.0))))
                row["compared_with"] = []
                for key, bc, measure in refs:
                    ref = baseline(key, bc, measure)
                    row["compared_with"].append(
                        {
                            "baseline": NAMES[key],
                            "concurrency": bc,
                            "rps": ref.rps,
                            "ratio": row["payments_per_s"] / ref.rps,
                        }
                    )
                lifecycle_rows.append(row)
            last = lifecycle_rows[-1]
            resources += [
                {"what": "rss_after_lifecycle_mb (with workers)", "database": kind, "value": last.get("rss_after_mb")},
                {"what": "rss_peak_lifecycle_mb (with workers)", "database": kind, "value": last.get("rss_peak_mb")},
            ]

    webhook_rows: list[dict[str, Any]] = []
    if "webhooks" in only:
        # The delivery worker keeps SEND_CONCURRENCY requests in flight: (a) and (e) at that many
        # connections (quick mode: whichever (a) this run measured, to stay under a minute).
        a_keys = [k for k in base if k[0] == "a"]
        a_c = min(c for _, c in a_keys) if args.quick and a_keys else SEND_CONCURRENCY
        ref_a = baseline("a", a_c, lambda: baselines.starlette_json(a_c, min(secs, 3.0)))
        for kind in args.database:
            log(f"webhook delivery on {kind}: {args.deliveries:,} pending deliveries")
            # Baseline (e), the receiver's own capacity, is measured once (with the first database).
            ceiling_s = None if ("e", SEND_CONCURRENCY) in base else (1.0 if args.quick else min(secs, 3.0))
            row = guarded(f"webhooks on {kind}", flows.webhook_delivery, kind, args.deliveries, ceiling_s)
            if row is None:
                continue
            if row["receiver_baseline"] is not None:
                base[("e", SEND_CONCURRENCY)] = row["receiver_baseline"]
            del row["receiver_baseline"]
            ceiling = base[("e", SEND_CONCURRENCY)]
            row["compared_with"] = [
                {
                    "baseline": NAMES["a"],
                    "concurrency": a_c,
                    "rps": ref_a.rps,
                    "ratio": row["deliveries_per_s"] / ref_a.rps,
                },
                {
                    "baseline": NAMES["e"],
                    "concurrency": SEND_CONCURRENCY,
                    "rps": ceiling.rps,
                    "ratio": row["deliveries_per_s"] / ceiling.rps,
                },
            ]
            webhook_rows.append(row)
            resources += [
                {"what": "time_to_healthy_s (deliveries pending)", "database": kind, "value": row["time_to_healthy_s"]},
                {"what": "rss_after_deliveries_mb (with workers)", "database": kind, "value": row["rss_after_mb"]},
            ]

    growth_rows: list[dict[str, Any]] = []
    if only & {"growth", "pagination"}:
        page_secs = 1.0 if args.quick else min(secs, 5.0)
        for kind in args.database:
            log(f"growth on {kind}: {args.growth_small:,} then {args.growth_large:,} payments stored")
            run_s = 1.0 if args.quick else secs
            sizes = (args.growth_small, args.growth_large)
            row = guarded(f"growth on {kind}", growth.growth, kind, *sizes, run_s, page_secs)
            if row is None:
                continue
            growth_rows.append(row)
            resources += [
                {"what": f"time_to_healthy_s ({row['stored_large']:,} payments stored)", "database": kind,
                 "value": row["time_to_healthy_large_s"]},
                {"what": "rss_after_growth_mb", "database": kind, "value": row["rss_after_growth_mb"]},
            ]  # fmt: skip

    results = {
        "mode": "quick" if args.quick else "full",
        "only": sorted(only),
        "sizes": {k: getattr(args, k) for k in SIZES},
        "seconds": secs,
        "machine": report.machine(),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "scenarios": rows,
        "timers": timer_rows,
        "lifecycle": lifecycle_rows,
        "webhooks": webhook_rows,
        "growth": growth_rows,
        "baselines": [{"name": NAMES[k], "concurrency": c, **load.as_dict()} for (k, c), load in sorted(base.items())],
        "resources": resources,
        "failures": failures,
    }
    json_path, md_path = report.write(results, args.out)
    print(report.markdown(results))
    log(f"done in {results['elapsed_s']} s; wrote {json_path} and {md_path}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
