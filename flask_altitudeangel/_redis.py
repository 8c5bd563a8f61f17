"""A Redis client for a URL: one node, a cluster, or the primary Sentinel names; short timeouts.

``redis+sentinel://[user:password@]host[:port][,host[:port]...]/service[/db][?options]`` asks
the Sentinels at those addresses (port 26379 unless given) for the primary of ``service``, and
again whenever a connection fails: after a failover the client finds the promoted replica by
itself. ``rediss+sentinel://`` speaks TLS to the Sentinels and to the data nodes. The URL's
user and password are the data nodes'; the ``sentinel_username`` and ``sentinel_password``
options are the Sentinels' own (they have none unless given). Every other option is one of
redis-py's URL options for the data nodes; with TLS, the ``ssl_*`` ones serve the Sentinels too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import redis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.connection import Connection, SSLConnection, parse_url
from redis.exceptions import ConnectionError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

CLUSTER_SCHEMES = {"redis+cluster://": "redis://", "rediss+cluster://": "rediss://"}
SENTINEL_SCHEMES = {"redis+sentinel://": False, "rediss+sentinel://": True}  # with TLS?
SENTINEL_PORT = 26379
SENTINEL_OPTIONS = ("sentinel_username", "sentinel_password")
# A command that meets a dead or demoted primary is sent again a few times within half a
# second, each time to the primary the Sentinels name then: a failover already over costs the
# request nothing, one still under way a quick 503 rather than a long stall. A timeout is not
# retried: the node may be slow rather than gone, and the request has waited long enough.
FAILOVER_RETRY = Retry(ExponentialWithJitterBackoff(cap=0.25, base=0.05), 3, (ConnectionError,))
# A Sentinel that does not answer is skipped for the next one at once.
SENTINEL_RETRY = Retry(NoBackoff(), 0)


class PrimaryConnection(SentinelManagedConnection):
    """A connection to the primary that asks the Sentinels where it is whenever it reconnects.

    redis-py's own reconnects a dropped connection to the address it had before (its issue
    #3874): a command retried after a failover, or after READONLY from a demoted primary, would
    knock at the old primary again and again until it failed.
    """

    def connect_to(self, address: tuple[str, int]) -> None:
        self.host, self.port = address
        Connection.connect_check_health(
            self, check_health=self.connection_pool.check_connection, retry_socket_connect=False
        )

    def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        if self._sock is None:
            self.host, self.port = self.connection_pool.get_master_address()
        super().connect_check_health(check_health, retry_socket_connect)


class PrimarySSLConnection(PrimaryConnection, SSLConnection):
    """The same, over TLS."""


@dataclass(frozen=True)
class SentinelUrl:
    """What a ``redis+sentinel://`` URL says: where the Sentinels are, and what to ask them."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    tls: bool = False
    node_options: dict[str, Any] = field(default_factory=dict)  # the data nodes' credentials...
    sentinel_options: dict[str, Any] = field(default_factory=dict)  # ...and the Sentinels'


def is_sentinel_url(url: str) -> bool:
    """Tell whether ``url`` names a primary through its Sentinels."""
    return url.startswith(tuple(SENTINEL_SCHEMES))


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Read a ``redis+sentinel://`` or ``rediss+sentinel://`` URL; ValueError says what is wrong."""
    scheme = next((s for s in SENTINEL_SCHEMES if url.startswith(s)), None)
    if scheme is None:
        raise ValueError("a Sentinel URL starts with redis+sentinel:// or rediss+sentinel://")
    rest, _, query = url[len(scheme) :].partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, _, hosts = netloc.rpartition("@")
    parts = [unquote(part) for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise ValueError("a Sentinel URL ends with /<service> or /<service>/<db>")
    if len(parts) == 2 and not parts[1].isdigit():
        raise ValueError(f"the database of a Sentinel URL is a number, not {parts[1]!r}")
    options = dict(parse_qsl(query, keep_blank_values=True))
    given = {name: options.pop(name, "") for name in SENTINEL_OPTIONS}
    sentinel_options = {name.removeprefix("sentinel_"): v for name, v in given.items() if v}
    tls = SENTINEL_SCHEMES[scheme]
    # redis-py reads the data nodes' credentials and options as it reads any URL of its own.
    node = parse_url(
        f"{'rediss' if tls else 'redis'}://{userinfo + '@' if userinfo else ''}sentinel/"
        + ("?" + urlencode(options) if options else "")
    )
    for name in ("host", "port", "db", "connection_class"):
        node.pop(name, None)
    if tls:
        node["ssl"] = True
        sentinel_options.update({k: v for k, v in node.items() if k.startswith("ssl")})
    return SentinelUrl(
        sentinels=[_address(host) for host in hosts.split(",")],
        service=parts[0],
        db=int(parts[1]) if len(parts) == 2 else 0,
        tls=tls,
        node_options=node,
        sentinel_options=sentinel_options,
    )


def _address(host: str) -> tuple[str, int]:
    """Read ``host[:port]`` (``[v6]:port`` too) of one Sentinel."""
    if host.startswith("["):
        name, _, port = host[1:].partition("]")
        port = port.removeprefix(":")
    else:
        name, _, port = host.partition(":")
    if not name:
        raise ValueError("a Sentinel URL lists host:port of each Sentinel, comma-separated")
    if port and not port.isdigit():
        raise ValueError(f"a Sentinel's port is a number, not {port!r}")
    return name, int(port) if port else SENTINEL_PORT


def connect(url: str, timeout: float) -> Any:
    """Return a client for ``url``; ``redis+cluster://`` (``rediss+cluster://`` with TLS) means
    a Redis Cluster reached through any of its nodes, ``redis+sentinel://`` the primary its
    Sentinels name (see the module's docstring)."""
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
    }
    for cluster_scheme, scheme in CLUSTER_SCHEMES.items():
        if url.startswith(cluster_scheme):
            return RedisCluster.from_url(scheme + url[len(cluster_scheme) :], **options)
    if is_sentinel_url(url):
        return sentinel_primary(parse_sentinel_url(url), options)
    return redis.Redis.from_url(url, **options)


def sentinel_primary(url: SentinelUrl, options: dict[str, Any]) -> redis.Redis:
    """Return a client of the primary the Sentinels name, that follows it through failovers."""
    sentinel_options = {
        "socket_timeout": options["socket_timeout"],
        "socket_connect_timeout": options["socket_connect_timeout"],
        "retry": SENTINEL_RETRY,
        **url.sentinel_options,
    }
    sentinels = Sentinel(url.sentinels, sentinel_kwargs=sentinel_options)
    node_options = {
        **url.node_options,
        **options,
        "retry": FAILOVER_RETRY,
        "connection_class": PrimarySSLConnection if url.tls else PrimaryConnection,
    }
    primary: redis.Redis = sentinels.master_for(url.service, db=url.db, **node_options)
    return primary
