"""Read counters and histogram sums from a service's Prometheus /metrics page."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from altitudeangel_sandbox.processes import ServiceProcess, metric_sum
from bench.services import METRICS_TOKEN


def samples(service: ServiceProcess, name: str, **labels: str) -> float:
    """Sum the samples called ``name`` on an app's /metrics whose labels include ``labels``."""
    return metric_sum(service.url, name, METRICS_TOKEN, **labels)


def token_requests(sandbox: ServiceProcess, grant_type: str = "refresh_token") -> dict[str, float]:
    """Return the sandbox's token requests of one grant type, by outcome, and their total."""
    text = requests.get(sandbox.url + "/metrics", timeout=10).text
    outcomes: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "sandbox_token_requests_total"
                and sample.labels.get("grant_type") == grant_type
            ):
                outcomes[sample.labels["outcome"]] = sample.value
    return {**outcomes, "total": sum(outcomes.values())}


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
