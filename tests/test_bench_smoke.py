"""The benchmarks still run: every scenario of ``bench/run.py --smoke``, with a tiny load."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.services import ROOT

# Whichever test comes first pays for the whole smoke run (2–3 minutes here, more when the
# machine is busy: the counts under valgrind take a minute of it).
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(480)]
Smoke = tuple[dict[str, Any], Path]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Smoke:
    assert shutil.which("wrk"), "the benchmarks need wrk: scripts/ensure-system-deps.sh wrk"
    assert shutil.which("valgrind"), "and valgrind: scripts/ensure-system-deps.sh valgrind"
    out = tmp_path_factory.mktemp("bench-smoke")
    # A separate process, as `make bench` runs it: its own services, ports and clean-up.
    done = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), out


def test_smoke_run_writes_the_report_and_the_plot(smoke: Smoke) -> None:
    results, out = smoke
    assert results["meta"]["smoke"] is True
    text = (out / "RESULTS.md").read_text()
    assert "## Targets" in text
    assert "CPU per request against the floor, DPoP on, 64 connections" in text
    assert "### 1c. What remains between the page and the floor" in text
    assert (ROOT / "bench" / "remains.md").read_text().splitlines()[0] in text
    assert (out / "results.png").read_bytes().startswith(b"\x89PNG")


def test_every_app_served_pages_at_every_concurrency(smoke: Smoke) -> None:
    overhead = smoke[0]["overhead"]
    for name in ("app", "app_dpop", "baseline", "floor", "peer"):
        assert set(overhead[name]) == {"1", "8", "32", "64"}
        for run in overhead[name].values():
            assert run["rps"] > 0
            assert 0 < run["p50_ms"] <= run["p99_ms"]
            assert run["cpu_us_per_request"] > 0


def test_instructions_per_view_are_counted_for_the_app_and_its_limits(smoke: Smoke) -> None:
    counted = smoke[0]["instructions"]["per_view"]
    # The smoke run counts two of the four: each count starts an interpreter under valgrind.
    assert set(counted) == {"app", "floor"}
    assert 1e6 < counted["floor"] < counted["app"]  # a page view is millions of instructions
    assert "Instructions per page view" in (smoke[1] / "RESULTS.md").read_text()


def test_the_page_reads_redis_twice_and_writes_nothing(smoke: Smoke) -> None:
    view = smoke[0]["redis"]["trace_off"]["per_view"]
    assert view["reads"] == 2
    assert view["writes"] == 0
    assert smoke[0]["redis"]["trace_on"]["per_view"]["writes"] > 0


def test_the_app_refreshes_once_in_the_storm_and_the_peer_does_not(
    smoke: Smoke,
) -> None:
    storm = smoke[0]["storm"]
    app = storm["app"]["expired"]
    assert app["token_requests"] == 1
    assert app["failures"] == app["forced_sign_outs"] == 0
    assert storm["app"]["fresh"]["token_requests"] == 0
    # Without a lock, how many of the peer's requests race depends on scheduling: a tiny smoke
    # storm proves only that it ran; the full run reports the counts.
    assert storm["peer"]["expired"]["token_requests"] >= 1


def test_sign_in_and_scale_are_measured(smoke: Smoke) -> None:
    signin, scale = smoke[0]["signin"], smoke[0]["scale"]
    assert {step["served_by"] for step in signin["steps"]} == {"app", "sandbox"}
    assert signin["app_ms"] > 0 and signin["sandbox_ms"] > 0
    assert len(scale) == 5
    assert all(row["rps"] > 0 for row in scale)


def test_anonymous_floods_leave_nothing_after_ten_minutes(smoke: Smoke) -> None:
    floods = smoke[0]["floods"]
    assert floods["anonymous_pages"]["keys"] == 0
    assert floods["one_address"]["statuses"]["429"] > 0
    for flood in floods.values():
        assert flood["left_after_ten_minutes"] == {"keys": 0, "bytes": 0}
    assert floods["many_addresses"]["largest_key_bytes"] < 512


def test_dpop_is_measured_against_bearer_in_the_same_run(smoke: Smoke) -> None:
    dpop = smoke[0]["dpop"]
    assert set(dpop) == {"1", "8", "32", "64", "proof_cpu_us"}
    assert dpop["proof_cpu_us"] > 0
    for connections in ("1", "8", "32", "64"):
        run = dpop[connections]
        assert run["bearer_us"] > 0 and run["dpop_us"] > 0 and run["ratio"] > 0
    assert "What DPoP costs a page" in (smoke[1] / "RESULTS.md").read_text()


def test_versus_measures_another_commit_in_the_same_run() -> None:
    # HEAD against itself: the tool's plumbing (worktree, second app, sign-in, pairs), not a figure.
    before = bench_worktrees()
    done = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "bench.versus", "HEAD", "--rounds", "1", "--seconds", "1"]
        + ["--instruction-views", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    rows = [
        line.split()
        for line in lines
        if line.split()[0] not in ("connections", "in-process", "instructions")
    ]
    assert [row[0] for row in rows] == ["1", "8", "32", "64"]
    for row in rows:
        assert float(row[1].rstrip("×")) > 0 and float(row[2].rstrip("×")) > 0
    in_process = re.search(
        r"^in-process +CPU ([\d.]+)×.*calls ([\d,]+) / ([\d,]+) per page", done.stdout, re.M
    )
    assert in_process, done.stdout
    assert float(in_process[1]) > 0
    counted = re.search(
        r"^instructions ([\d.]+)× \(([\d,]+) / ([\d,]+) per page", done.stdout, re.M
    )
    assert counted, done.stdout
    this_count, other_count = (int(n.replace(",", "")) for n in counted.group(2, 3))
    assert this_count > 1e6 and abs(this_count - other_count) <= this_count // 50  # same code
    this_calls, other_calls = (int(n.replace(",", "")) for n in in_process.group(2, 3))
    assert this_calls > 1000 and abs(this_calls - other_calls) <= this_calls // 50  # same code
    assert bench_worktrees() <= before  # its worktree removed again (another run's may remain)


def bench_worktrees() -> set[str]:
    listed = subprocess.run(  # noqa: S603, S607 - fixed argument list
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {line.split()[0] for line in listed.stdout.splitlines() if "bench-versus-" in line}


def test_the_benchmarks_import_nothing_from_the_tests() -> None:
    importers = []
    for path in sorted((ROOT / "bench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "tests" or name.startswith("tests.") for name in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == []


def test_tests_bench_and_the_fixture_start_processes_with_one_harness() -> None:
    from altitudeangel_sandbox import processes, pytest_plugin, testing
    from bench import services as bench_services
    from tests import services as test_services

    for module in (test_services, bench_services):
        assert issubclass(module.RedisServer, processes.RedisServer)
        assert module.free_port is processes.free_port
    assert issubclass(test_services.ServiceProcess, processes.ServiceProcess)
    assert bench_services.ServiceProcess is processes.ServiceProcess
    # The fixture starts its processes through the driver module, which uses the harness.
    assert testing.sandbox_process is processes.sandbox_process
    assert "subprocess" not in Path(pytest_plugin.__file__).read_text()
