"""Writes that must outlive a failover: kept only once a replica has them, saved again if not.

Redis replicates asynchronously. A write the primary has acknowledged is lost if the primary
dies before a replica has it, and the replica promoted in its place knows nothing of it. For a
rotated refresh token that is a sign-out: the promoted replica holds the token already spent,
and a server with reuse detection revokes the whole grant the next time it is presented. So
these writes are sent with a ``WAIT`` for one replica, on the same connection; where no replica
answers in time, the client waits for one to catch up; where the primary fails mid-write, it
writes again, on whichever primary the client reaches next, until ``patience`` runs out. Each
write given here must be safe to repeat (the token store's compare-and-set accepts its own
write again). Where the primary has no replica, there is nobody to lose a write to, and no wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError, ReadOnlyError

from flask_altitudeangel._metrics import DURABLE_WRITES

log = logging.getLogger(__name__)

WAIT_MAX = 0.5  # seconds a WAIT may block, at most half the socket timeout
REPLICAS_KNOWN_FOR = 1.0  # seconds the count of replicas is believed without asking again
PAUSE = 0.05  # seconds between two looks at how far the replicas are, or two attempts


class DurableWrites:
    """Run writes on the primary and return once a replica has them (see the module's doc)."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        pool = getattr(redis, "connection_pool", None)
        timeout = getattr(pool, "connection_kwargs", {}).get("socket_timeout") or 2 * WAIT_MAX
        self._wait_ms = int(1000 * min(WAIT_MAX, timeout / 2))
        self._replicas: tuple[float, int] | None = None  # (when asked, how many)

    @classmethod
    def of(cls, redis: Any) -> DurableWrites | None:
        """Return durable writes on ``redis``; None for a Redis Cluster, where WAIT would
        reach a node other than the one written to."""
        return None if isinstance(redis, RedisCluster) else cls(redis)

    def write(self, queue: Callable[[Any], None], patience: float) -> list[Any]:
        """Queue commands on a pipeline with ``queue``, run them, return their answers.

        A connection failure or a demoted primary's READONLY is met by writing again for up to
        ``patience`` seconds; the last failure is raised past it. A replica that has not caught
        up by then is logged and counted, and the answers returned all the same: the write is
        on the primary, and refusing it would not put it anywhere else.
        """
        deadline = time.monotonic() + patience
        while True:
            try:
                return self._write_once(queue, deadline)
            except (ConnectionError, ReadOnlyError):
                DURABLE_WRITES.labels("retried").inc()
                self._replicas = None  # another primary may answer next, with replicas of its own
                if time.monotonic() >= deadline:
                    raise
                time.sleep(PAUSE)

    def _write_once(self, queue: Callable[[Any], None], deadline: float) -> list[Any]:
        waits = self._replica_count() > 0
        with self._redis.pipeline(transaction=False) as pipe:
            queue(pipe)
            if waits:
                pipe.execute_command("WAIT", 1, self._wait_ms)
            answers: list[Any] = pipe.execute()
        if not waits:
            DURABLE_WRITES.labels("no_replica").inc()
        elif int(answers.pop()) < 1:
            self._wait_for_a_replica(deadline)
        else:
            DURABLE_WRITES.labels("confirmed").inc()
        return answers

    def _wait_for_a_replica(self, deadline: float) -> None:
        """Wait until a replica has acknowledged all the primary holds now, or the deadline."""
        role = self._redis.execute_command("ROLE")
        target = int(role[1])
        while True:
            replicas = role[2] if _name(role[0]) == "master" else []
            if not replicas:
                DURABLE_WRITES.labels("no_replica").inc()  # none a failover could promote
                return
            if max(int(replica[2]) for replica in replicas) >= target:
                DURABLE_WRITES.labels("confirmed").inc()
                return
            if time.monotonic() >= deadline:
                DURABLE_WRITES.labels("behind").inc()
                log.warning("event=replica_behind")
                return
            time.sleep(PAUSE)
            role = self._redis.execute_command("ROLE")

    def _replica_count(self) -> int:
        now = time.monotonic()
        if self._replicas is None or now - self._replicas[0] > REPLICAS_KNOWN_FOR:
            role = self._redis.execute_command("ROLE")
            count = len(role[2]) if _name(role[0]) == "master" else 0
            self._replicas = (now, count)
        return self._replicas[1]


def _name(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
