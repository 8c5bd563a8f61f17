"""The issue's targets, checked against a run's results."""

from __future__ import annotations

from typing import Any

from bench.scenarios.overhead import ratios


def targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Return (what, target, measured, met) for every target of the issue."""
    rows = []
    at = {c: f"{c} connection" + ("" if c == "1" else "s") for c in r["overhead"]["app"]}
    for of, what, bound in (("app", "DPoP off", 1.5), ("app_dpop", "DPoP on", 1.65)):
        for c, x in ratios(r["overhead"], of, "floor").items():
            rows.append(
                (
                    f"CPU per request against the floor, {what}, {at[c]}",
                    f"≤ {bound:.2f}×",
                    f"{x['cpu']:.2f}×",
                    x["cpu"] <= bound,
                )
            )
    proof = r["dpop"]["proof_cpu_us"]
    rows.append(("CPU of one DPoP proof (median)", "≤ 60 µs", f"{proof:.0f} µs", proof <= 60))
    for c, x in ratios(r["overhead"]).items():
        rows.append((f"CPU per request, {at[c]}", "≤ 1.25×", f"{x['cpu']:.2f}×", x["cpu"] <= 1.25))
    for c, x in ratios(r["overhead"]).items():
        rows.append((f"Throughput, {at[c]}", "≥ 0.90×", f"{x['rps']:.2f}×", x["rps"] >= 0.90))
    for c, x in ratios(r["overhead"]).items():
        rows.append((f"p99 latency, {at[c]}", "≤ 1.15×", f"{x['p99']:.2f}×", x["p99"] <= 1.15))
    view = r["redis"]["trace_off"]["per_view"]
    rows.append(("Redis reads per page view", "≤ 2", f"{view['reads']:.2f}", view["reads"] <= 2))
    rows.append(("Redis writes per page view", "0", f"{view['writes']:.2f}", view["writes"] == 0))
    mem = r["redis"]["trace_off"]["memory"]
    used = mem["session"] + mem["tokens"]
    rows.append(("Redis memory per user (session + tokens)", "≤ 2048 B", f"{used} B", used <= 2048))
    s = r["storm"]
    app = s["app"]["expired"]
    rows.append(
        ("Storm: token requests", "1", f"{app['token_requests']:.0f}", app["token_requests"] == 1)
    )
    rows.append(("Storm: failed requests", "0", str(app["failures"]), app["failures"] == 0))
    rows.append(
        ("Storm: forced sign-outs", "0", str(app["forced_sign_outs"]), app["forced_sign_outs"] == 0)
    )
    bound = (s["app_refresh_ms_in_storm"] or s["token_round_trip_ms"]) + 50
    added = s["app"]["added_p99_ms"]
    noise = s["fresh_storm_p99_spread_ms"]
    measured = f"{added:+.0f} ms (two fresh storms differ by {noise:.0f} ms)"
    rows.append(("Storm: p99 added", f"≤ {bound:.0f} ms", measured, added <= bound))
    wait = s["app_mean_wait_ms"]
    rows.append(
        (
            "Storm: mean wait of requests held for the refresh",
            f"≤ {bound:.0f} ms",
            f"{wait:.0f} ms ({s['app_waiters']:.0f} held)",
            wait <= bound,
        )
    )
    return rows


def summary(r: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "App against the floor and the baseline, in the same run.", ""]
    lines += ["| What | Target | Measured | Met |", "| --- | --- | --- | --- |"]
    for what, target, measured, met in targets(r):
        lines.append(f"| {what} | {target} | {measured} | {'yes' if met else '**no**'} |")
    return [*lines, ""]
