"""A primary, a replica and three Sentinels on free loopback ports, as a managed Redis runs them.

Each data node sits behind a proxy of its own (tests/cluster/delay_proxy.py): the Sentinels,
the app and the other node know it by the proxy's port, and the proxy can hold replication
back so that a write acknowledged by the primary reaches the replica late. Killing the primary
then loses what it had not yet passed on, as a real failover does.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import redis

from tests.services import PYTHON, ROOT, free_port, stop_process, wait_for_port

SERVICE = "portal"
SENTINELS = 3
QUORUM = 2
DOWN_AFTER_MS = 1000
# A Sentinel that voted in a failover waits twice this before it takes part in another one.
FAILOVER_TIMEOUT_MS = 2000


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: apt-get install redis-server")
    return path


@dataclass
class DataNode:
    """One redis-server and the proxy in front of it; ``port`` is how everyone reaches it."""

    name: str
    directory: Path
    server_port: int = field(default_factory=free_port)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    proxy: subprocess.Popen[bytes] | None = None

    def start(self, password: str, replica_of: int | None) -> None:
        args = [
            _binary("redis-server"),
            "--port", str(self.server_port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / f"{self.name}.log"),
            "--repl-diskless-sync-delay", "0",  # a replica syncs at once, not 5 s later
            # Known to the primary, and so to the Sentinels, by the proxy's port.
            "--replica-announce-ip", "127.0.0.1",
            "--replica-announce-port", str(self.port),
        ]  # fmt: skip
        if password:
            args += ["--requirepass", password, "--masterauth", password]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.process = subprocess.Popen(args, start_new_session=True)  # noqa: S603
        wait_for_port(self.server_port, self.process)

    def start_proxy(self, delay: float) -> None:
        self.proxy = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [PYTHON, "-m", "tests.cluster.delay_proxy", str(self.port), str(self.server_port)]
            + [str(delay)],
            cwd=ROOT,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proxy)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): nothing it held is written anywhere."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        for process in (self.process, self.proxy):
            if process is not None:
                stop_process(process)
        self.process = self.proxy = None


@dataclass
class LocalSentinels:
    """Two data nodes (one primary, one replica) watched by three Sentinels."""

    delay: float = 0.0  # seconds replication is held back
    password: str = ""  # the data nodes'
    sentinel_password: str = ""  # the Sentinels' own
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sentinel-")))
    nodes: list[DataNode] = field(default_factory=list)
    sentinel_ports: list[int] = field(default_factory=list)
    sentinels: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The app's REDIS_URL: every Sentinel, the service, database 0, the passwords."""
        credentials = f":{quote(self.password, safe='')}@" if self.password else ""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        given = {"sentinel_password": self.sentinel_password} if self.sentinel_password else {}
        query = "?" + urlencode(given) if given else ""
        return f"redis+sentinel://{credentials}{hosts}/{SERVICE}/0{query}"

    def start(self) -> LocalSentinels:
        self.nodes = [DataNode(f"node{n}", self.directory) for n in range(2)]
        for node in self.nodes:
            node.start_proxy(self.delay)
        self.nodes[0].start(self.password, None)
        self.nodes[1].start(self.password, self.nodes[0].port)
        self.wait_in_sync()
        for n in range(SENTINELS):
            self._start_sentinel(n, self.nodes[0].port)
        self._wait_until_watched()
        return self

    def _start_sentinel(self, n: int, primary_port: int) -> None:
        port = free_port()
        lines = [
            f"port {port}",
            "bind 127.0.0.1",
            f"dir {self.directory}",
            f"logfile {self.directory / f'sentinel{n}.log'}",
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} {QUORUM}",
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {SERVICE} 1",
        ]
        if self.password:
            lines.append(f"sentinel auth-pass {SERVICE} {self.password}")
        if self.sentinel_password:
            lines += [f"requirepass {self.sentinel_password}"]
            lines += [f"sentinel sentinel-pass {self.sentinel_password}"]
        config = self.directory / f"sentinel{n}.conf"
        config.write_text("\n".join(lines) + "\n")
        process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [_binary("redis-server"), str(config), "--sentinel"], start_new_session=True
        )
        wait_for_port(port, process)
        self.sentinel_ports.append(port)
        self.sentinels.append(process)

    def sentinel(self, n: int = 0) -> redis.Redis:
        return redis.Redis(
            port=self.sentinel_ports[n],
            password=self.sentinel_password or None,
            socket_timeout=5,
            decode_responses=True,
        )

    def node(self, node: DataNode) -> redis.Redis:
        """A plain client of one node, straight to its server (not through the proxy)."""
        return redis.Redis(
            port=node.server_port,
            password=self.password or None,
            socket_timeout=5,
            decode_responses=True,
        )

    def _wait_until_watched(self, timeout: float = 30) -> None:
        """Wait until every Sentinel knows the primary, the replica and the other Sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [self.sentinel(n).sentinel_master(SERVICE) for n in range(SENTINELS)]
            if all(
                s["num-other-sentinels"] == SENTINELS - 1 and s["num-slaves"] >= 1 for s in states
            ):
                return
            time.sleep(0.1)
        raise TimeoutError(f"the Sentinels did not all find each other in {timeout} s")

    def primary(self) -> DataNode:
        """The node the Sentinels name as primary now."""
        _, port = self.sentinel().sentinel_get_master_addr_by_name(SERVICE)
        return next(node for node in self.nodes if node.port == int(port))

    def replica(self) -> DataNode:
        primary = self.primary()
        return next(node for node in self.nodes if node is not primary)

    def kill_primary(self) -> DataNode:
        """SIGKILL the primary; return it."""
        primary = self.primary()
        primary.kill()
        return primary

    def wait_for_promotion(self, old: DataNode, timeout: float = 30) -> DataNode:
        """Wait until every Sentinel names another node and that node acts as the primary."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            named = {
                int(self.sentinel(n).sentinel_get_master_addr_by_name(SERVICE)[1])
                for n in range(SENTINELS)
            }
            if len(named) == 1 and old.port not in named:
                promoted = next(node for node in self.nodes if node.port in named)
                if self.node(promoted).info("replication")["role"] == "master":
                    return promoted
            time.sleep(0.1)
        replicas = self.sentinel().sentinel_slaves(SERVICE)
        raise TimeoutError(
            f"no replica was promoted in {timeout} s; the Sentinels' replicas: {replicas}\n"
            + self.log_tail()
        )

    def wait_for_demotion(self, node: DataNode, timeout: float = 30) -> None:
        """Wait until a primary still alive after a failover serves as a replica."""
        deadline = time.monotonic() + timeout
        while self.node(node).info("replication")["role"] != "slave":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the old primary was not made a replica in {timeout} s")
            time.sleep(0.1)

    def rejoin(self, node: DataNode) -> None:
        """Start a killed node again as a replica of the current primary, and wait for it."""
        node.start(self.password, self.primary().port)
        self.wait_in_sync()

    def wait_in_sync(self, timeout: float = 30) -> None:
        """Wait until the replica holds everything the primary has written so far."""
        primary, replica = self.nodes if not self.sentinels else (self.primary(), self.replica())
        target = self.node(primary).info("replication")["master_repl_offset"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.node(replica).info("replication")
            if info.get("master_link_status") == "up" and info["slave_repl_offset"] >= target:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the replica did not catch up with the primary in {timeout} s")

    def log_tail(self, lines: int = 30) -> str:
        """What the Sentinels saw last (their events), to see why a failover stalled."""
        logs = sorted(self.directory.glob("sentinel*.log"))
        return "\n".join(
            f"{log.name}: {line}"
            for log in logs
            for line in [x for x in log.read_text().splitlines() if " # " in x][-lines:]
        )

    def cleanup(self) -> None:
        for process in self.sentinels:
            stop_process(process)
        for node in self.nodes:
            node.stop()
        self.sentinels.clear()
        shutil.rmtree(self.directory, ignore_errors=True)
