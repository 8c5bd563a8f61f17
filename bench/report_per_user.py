"""RESULTS.md's sections on what each user and each sign-in costs: Redis per page and per user,
DPoP, anonymous floods, the refresh storm and sign-in time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def redis_section(r: dict[str, Any]) -> list[str]:
    rd = r["redis"]
    lines = [
        "## 2. Redis work per page view",
        "",
        "From Redis's own `INFO commandstats` and `INFO stats` deltas (the cost of reading them "
        "subtracted), over page views after a fresh sign-in.",
        "",
        "| | Reads/view | Writes/view | Commands/view | Bytes to / from Redis per view "
        "| First view after sign-in | Memory per user |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {
        "trace_off": "App, FLOW_TRACE=0",
        "trace_on": "App, FLOW_TRACE=1",
        "peer": "Peer (token in Flask-Session)",
    }
    for key, label in names.items():
        v, first, mem = rd[key]["per_view"], rd[key]["first_view"], rd[key]["memory"]
        commands = ", ".join(f"{k} {n:g}" for k, n in sorted(v["commands"].items()))
        first_commands = ", ".join(f"{k} {n:g}" for k, n in sorted(first["commands"].items()))
        memory = " + ".join(f"{k} {b} B" for k, b in mem.items())
        lines.append(
            f"| {label} | {v['reads']:g} | {v['writes']:g} | {commands} | "
            f"{v['bytes_to_redis']:.0f} / {v['bytes_from_redis']:.0f} | {first_commands} | "
            f"{memory} |"
        )
    return [*lines, ""]


def dpop_section(r: dict[str, Any]) -> list[str]:
    if "dpop" not in r:
        return []
    lines = [
        "### 2a. What DPoP costs a page",
        "",
        "The app with DPoP-bound tokens (a fresh ES256 proof on every API call) against the same "
        "app with Bearer tokens, alternately in the same run, the same Redis and upstream. CPU of "
        "the app's workers per request, medians over the rounds.",
        "",
        "| Connections | Bearer CPU µs/req | DPoP CPU µs/req | DPoP / Bearer |",
        "| --- | --- | --- | --- |",
    ]
    pages = {k: x for k, x in r["dpop"].items() if k.isdigit()}
    for connections, x in pages.items():
        lines.append(
            f"| {connections} | {x['bearer_us']:.0f} | {x['dpop_us']:.0f} | {x['ratio']:.2f}× |"
        )
    proof = r["dpop"].get("proof_cpu_us")
    if proof is not None:
        lines += [
            "",
            f"One proof on its own, timed in the bench process: {proof:.0f} µs of CPU, the "
            "median of thousands of proofs each timed on its own (key and claims as the app "
            "builds them for a list call).",
        ]
    return [*lines, ""]


def flood_section(r: dict[str, Any]) -> list[str]:
    if "floods" not in r:
        return []
    f = r["floods"]
    lines = [
        "### 2b. What anonymous traffic leaves in Redis",
        "",
        "Cookie-less GETs against an app on an empty Redis, behind one proxy so each request "
        "can carry its own address (`TRUST_PROXY=1`, `X-Forwarded-For`), with the default "
        "limit of 20 sign-ins a minute per address. Bytes are `MEMORY USAGE` summed over every "
        'key left; "after 10 minutes" counts the keys whose TTL outlasts ten minutes.',
        "",
        "| | Requests | Answers | Keys left | Bytes per request | Largest key | Longest TTL "
        "| Left after 10 minutes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {
        "anonymous_pages": "`GET /flight-reports/new`, many addresses",
        "one_address": "`GET /login`, one address",
        "many_addresses": "`GET /login`, a new address each",
    }
    for key, label in names.items():
        x = f[key]
        answers = ", ".join(f"{n} × {s}" for s, n in x["statuses"].items())
        kinds = ", ".join(f"{k} {v['keys']}" for k, v in x["kinds"].items()) or "none"
        left = x["left_after_ten_minutes"]
        lines.append(
            f"| {label} | {x['requests']} | {answers} | {x['keys']} ({kinds}) | "
            f"{x['bytes_per_request']:.0f} B | {x['largest_key_bytes']} B | "
            f"{x['longest_ttl']} s | {left['keys']} keys, {left['bytes']} B |"
        )
    return [*lines, ""]


STORM_ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    (
        "Token requests (expired storm)",
        lambda x: f"{x['expired']['token_requests']:.0f} {x['expired']['token_outcomes']}",
    ),
    ("Token requests (fresh storm)", lambda x: f"{x['fresh']['token_requests']:.0f}"),
    ("Pages served (200)", lambda x: str(x["expired"]["ok"])),
    ("Failed requests", lambda x: str(x["expired"]["failures"])),
    ("Forced sign-outs", lambda x: str(x["expired"]["forced_sign_outs"])),
    (
        "p50 / p99 fresh, ms",
        lambda x: f"{x['fresh']['p50_ms']:.0f} / {x['fresh']['p99_ms']:.0f}",
    ),
    (
        "p50 / p99 expired, ms",
        lambda x: f"{x['expired']['p50_ms']:.0f} / {x['expired']['p99_ms']:.0f}",
    ),
    ("Added p50 / p99, ms", lambda x: f"{x['added_p50_ms']:+.0f} / {x['added_p99_ms']:+.0f}"),
]


def storm_section(r: dict[str, Any]) -> list[str]:
    s = r["storm"]
    lines = [
        "## 3. Refresh storm",
        "",
        f"{s['requests']} concurrent page views of one user across 2 instances × 4 workers, just "
        f"after the access token expired (sandbox tokens live {s['ttl_seconds']} s), then the same "
        "storm with a fresh token just after sign-in. Token requests are the sandbox's "
        '`sandbox_token_requests_total{grant_type="refresh_token"}` delta.',
        "",
        "| | App | Peer (Authlib + Flask-Session) |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {label} | {cell(s['app'])} | {cell(s['peer'])} |" for label, cell in STORM_ROWS]
    observed = s["app_refresh_ms_in_storm"]
    lines += [
        "",
        f"One token round trip: {s['token_round_trip_ms']:.0f} ms to the idle sandbox; "
        + (
            f"{observed:.0f} ms as the app saw it during the storm. "
            if observed
            else "the app made no refresh call during the storm. "
        )
        + f"{s['app_waiters']:.0f} of the app's requests waited for that refresh, "
        f"{s['app_mean_wait_ms']:.0f} ms on average (`altitudeangel_refresh_lock_wait_seconds`). "
        f"Two storms with the same fresh token, one after the other, differed by "
        f"{s['fresh_storm_p99_spread_ms']:.0f} ms at p99: the noise of this measurement.",
        "",
    ]
    return lines


def signin_section(r: dict[str, Any]) -> list[str]:
    si = r["signin"]
    lines = [
        "## 4. Sign-in cost",
        "",
        f"A scripted sign-in (no browser), {si['rounds']} times, medians; /login (pushing the "
        "request, RFC 9126), the callback and the first page call the sandbox themselves, shown "
        "as sandbox time inside the app's hop. "
        "The sandbox asks for consent only the first time.",
        "",
        "| Hop | Served by | Seen in rounds | Total ms | Of which sandbox ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for step in si["steps"]:
        inner = step["ms"] if step["served_by"] == "sandbox" else step["sandbox_ms"]
        lines.append(
            f"| `{step['step']}` | {step['served_by']} | {step['rounds']} | {step['ms']:.1f} | "
            f"{inner:.1f} |"
        )
    lines += [
        "",
        f"Per sign-in (median): {si['app_ms']:.1f} ms in the app, "
        f"{si['sandbox_ms']:.1f} ms in the sandbox.",
        "",
    ]
    return lines
