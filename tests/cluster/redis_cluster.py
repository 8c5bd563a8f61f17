"""A local three-master Redis Cluster on free ports, keeping nothing on disk but its node files."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.services import free_port, stop_process, wait_for_port

MASTERS = 3


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: apt-get install redis-server redis-tools")
    return path


@dataclass
class LocalRedisCluster:
    """Three cluster-enabled redis-server nodes joined by ``redis-cli --cluster create``."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="redis-cluster-")))
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The app's REDIS_URL for this cluster: any one node is enough to discover the rest."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> LocalRedisCluster:
        server = _binary("redis-server")
        for _ in range(MASTERS):
            # The bus port is given explicitly: port + 10000 may be past 65535 for a free port.
            port, bus = free_port(), free_port()
            self.processes.append(self._start_node(server, port, bus))
            self.ports.append(port)
        for port, process in zip(self.ports, self.processes, strict=True):
            wait_for_port(port, process)
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(  # noqa: S603 - fixed argument list
            [_binary("redis-cli"), "--cluster", "create", *nodes]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self._wait_until_ok()
        return self

    def _start_node(self, server: str, port: int, bus: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                server,
                "--port", str(port),
                "--cluster-port", str(bus),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{port}.conf",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / f"redis-{port}.log"),
            ],
            start_new_session=True,
        )  # fmt: skip

    def _wait_until_ok(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [self.node(port).cluster("info")["cluster_state"] for port in self.ports]
            if all(state == "ok" for state in states):
                return
            time.sleep(0.1)
        raise TimeoutError(f"the Redis Cluster did not reach cluster_state:ok in {timeout} s")

    def node(self, port: int) -> redis.Redis:
        """A plain client of one node, to look at what that node holds."""
        return redis.Redis(port=port, socket_timeout=5, decode_responses=True)

    def cleanup(self) -> None:
        for process in self.processes:
            stop_process(process)
        self.processes.clear()
        shutil.rmtree(self.directory, ignore_errors=True)
