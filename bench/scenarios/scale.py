"""Scale: throughput of the signed-in page with 1, 2 and 4 workers, and 2 instances behind nginx.

All on this machine, so the CPU split at each step says where growth stops: the app's workers,
Redis, the API upstream, the load balancer, or (with the API on the sandbox) the sandbox.
"""

from __future__ import annotations

from typing import Any

from altitudeangel_sandbox.processes import ServiceProcess
from bench import load
from bench.plan import Plan
from bench.procs import CpuMeter
from bench.world import PAGE, World


def run(world: World, plan: Plan) -> list[dict[str, Any]]:
    # Started together up front; an idle instance costs no CPU while another is measured.
    one, four, first, second, on_sandbox = world.stack.start_all(
        [
            world.app_service(1),
            world.app_service(4),
            world.app_service(2),
            world.app_service(2),
            world.app_service(2, AA_API_URL=world.sandbox.url),
        ]
    )
    balancer = world.stack.balancer([f"127.0.0.1:{a.port}" for a in (first, second)])
    setups = [
        ("1 instance × 1 worker", [one], one.url, None),
        ("1 instance × 2 workers", [world.app.service], world.app.service.url, None),
        ("1 instance × 4 workers", [four], four.url, None),
        ("2 instances × 2 workers + nginx", [first, second], balancer.url, balancer),
        ("1 × 2 workers, API on the sandbox", [on_sandbox], on_sandbox.url, None),
    ]
    rows = [measure(world, plan, *setup) for setup in setups]
    balancer.cleanup()
    _stop([one, four, first, second, on_sandbox])
    return rows


def measure(
    world: World, plan: Plan, label: str, apps: list[ServiceProcess], url: str, balancer: Any = None
) -> dict[str, Any]:
    # Warm every worker up, in the smoke run too: a cold instance behind TLS can take longer
    # than the smoke run's one second for its first pages on a busy machine.
    load.wrk(url + PAGE, 8, 1, world.app.cookie)
    groups = {
        "app": [_pid(a) for a in apps],
        "redis": [_pid(world.app_redis)],
        "upstream": [_pid(world.upstream)],
        "sandbox": [_pid(world.sandbox)],
        "balancer": [_pid(balancer)] if balancer is not None else [],
    }
    meter = CpuMeter(groups).start()
    result = load.wrk(url + PAGE, plan.scale_connections, plan.seconds, world.app.cookie)
    cpu = meter.stop()
    if result.errors:
        raise RuntimeError(f"{label}: {result.errors} failed requests")
    return {
        "setup": label,
        "rps": result.rps,
        "p50_ms": result.p50 * 1000,
        "p99_ms": result.p99 * 1000,
        "cores": {k: v / result.seconds for k, v in cpu.items()},
    }


def _pid(service: Any) -> int:
    assert service.process is not None
    return int(service.process.pid)


def _stop(services: list[ServiceProcess]) -> None:
    for service in services:
        service.stop()
