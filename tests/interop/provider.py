"""panva's oidc-provider, a certified OpenID provider, started for the interoperability tests."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from joserfc.jwk import ECKey

from tests.services import ROOT, ServiceProcess, free_port

SOURCE_DIR = Path(__file__).resolve().parent / "oidc_provider"
# The provider runs from a copy under .run/, where `npm ci` puts node_modules: outside the source
# tree, so the linters that walk it (yamllint finds malformed YAML in npm packages) never see it.
RUN_DIR = ROOT / ".run" / "interop-oidc-provider"
# Written after a successful `npm ci`: the hash of the lockfile that node_modules came from.
INSTALLED_STAMP = RUN_DIR / "node_modules" / ".installed-from-lock.sha256"
OLDEST_NODE = 18  # oidc-provider 8.x runs on Node.js 18 and later
NODE_MISSING = (
    "the interoperability tests run panva's oidc-provider on Node.js {oldest} or later with npm, "
    "and {what}: on Debian or Ubuntu, `apt-get install nodejs npm`"
)

KEY_CLIENT_ID = "portal-private-key-jwt"
SECRET_CLIENT_ID = "portal-client-secret"
CLIENT_SECRET = "interop+secret/with=odd&chars%?#-0123456789"  # noqa: S105 - a test client's


def _require_node() -> tuple[str, str]:
    """Return the paths of node and npm, or fail saying what to install."""
    node, npm = shutil.which("node"), shutil.which("npm")
    missing = [name for name, path in (("node", node), ("npm", npm)) if path is None]
    if node is None or npm is None:
        what = " and ".join(missing) + (" is" if len(missing) == 1 else " are") + " missing"
        raise RuntimeError(NODE_MISSING.format(oldest=OLDEST_NODE, what=what))
    version = subprocess.run(  # noqa: S603 - fixed argument list
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < OLDEST_NODE:
        what = f"this machine has Node.js {version}"
        raise RuntimeError(NODE_MISSING.format(oldest=OLDEST_NODE, what=what))
    return node, npm


def _copy_if_changed(source: Path, target: Path) -> None:
    """Copy a file by atomic rename, so a server starting meanwhile reads a whole file."""
    content = source.read_bytes()
    if target.is_file() and target.read_bytes() == content:
        return
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_bytes(content)
    os.replace(temporary, target)


def install_packages() -> tuple[str, Path]:
    """Copy the provider to .run/ and install its pinned npm packages unless already installed.

    Return the paths of node and of the server script. A file lock keeps concurrent test runs
    from installing at once.
    """
    node, npm = _require_node()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with open(RUN_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for source in SOURCE_DIR.iterdir():
            if source.is_file():
                _copy_if_changed(source, RUN_DIR / source.name)
        digest = hashlib.sha256((SOURCE_DIR / "package-lock.json").read_bytes()).hexdigest()
        if INSTALLED_STAMP.is_file() and INSTALLED_STAMP.read_text().strip() == digest:
            return node, RUN_DIR / "server.mjs"
        result = subprocess.run(  # noqa: S603 - fixed argument list
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=RUN_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"`npm ci` in {RUN_DIR} failed:\n{result.stdout}\n{result.stderr}")
        INSTALLED_STAMP.write_text(digest + "\n")
    return node, RUN_DIR / "server.mjs"


@dataclass
class ProviderClient:
    """One client registered at the provider, as the provider's clients file has it."""

    client_id: str
    metadata: dict[str, Any]
    client_secret: str | None = None
    private_key: ECKey | None = None  # the private_key_jwt client's signing key
    private_key_pem: Path | None = None  # the same key, PKCS#8 PEM
    private_jwk: Path | None = None  # the same key, a private JWK (with kid and alg)


@dataclass
class OpenIDProvider:
    """A running oidc-provider: its issuer, discovery document and registered clients."""

    service: ServiceProcess
    directory: Path
    key_client: ProviderClient  # private_key_jwt, DPoP-bound access tokens
    secret_client: ProviderClient  # client_secret_post
    redirect_uri: str
    post_logout_redirect_uri: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.service.url

    @property
    def resource_url(self) -> str:
        """The protected resource (the platform's GET /userProfile, DPoP-aware)."""
        return self.issuer + "/resource/userProfile"

    def endpoint(self, name: str) -> str:
        """Return an endpoint from discovery, e.g. ``token`` or ``pushed_authorization_request``."""
        return str(self.metadata[f"{name}_endpoint"])

    def stop(self) -> None:
        self.service.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _key_client(
    directory: Path, redirect_uris: Sequence[str], logout_uris: Sequence[str]
) -> ProviderClient:
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)
    public = key.as_dict(private=False)
    private_jwk = directory / "client-key.jwk"
    private_jwk.write_text(json.dumps(key.as_dict(private=True)))
    private_pem = directory / "client-key.pem"
    private_pem.write_bytes(key.as_pem(private=True))
    metadata = {
        "client_id": KEY_CLIENT_ID,
        "client_name": "Demo Portal (private_key_jwt, DPoP)",
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks": {"keys": [public]},
        "dpop_bound_access_tokens": True,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": list(redirect_uris),
        "post_logout_redirect_uris": list(logout_uris),
    }
    return ProviderClient(KEY_CLIENT_ID, metadata, None, key, private_pem, private_jwk)


def _secret_client(redirect_uris: Sequence[str], logout_uris: Sequence[str]) -> ProviderClient:
    metadata = {
        "client_id": SECRET_CLIENT_ID,
        "client_name": "Demo Portal (client_secret_post)",
        "client_secret": CLIENT_SECRET,
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": list(redirect_uris),
        "post_logout_redirect_uris": list(logout_uris),
    }
    return ProviderClient(SECRET_CLIENT_ID, metadata, CLIENT_SECRET)


def start_provider(
    redirect_uri: str | None = None,
    post_logout_redirect_uri: str | None = None,
    *,
    key_client: dict[str, Any] | None = None,
    secret_client: dict[str, Any] | None = None,
    **env: str,
) -> OpenIDProvider:
    """Install the npm packages if needed, then start oidc-provider on a free port.

    ``redirect_uri`` defaults to ``http://127.0.0.1:<a free port>/callback``; ``key_client`` and
    ``secret_client`` add to or override the two clients' metadata (e.g.
    ``require_pushed_authorization_requests``); ``env`` sets the server's variables
    (``OP_ACCESS_TOKEN_TTL``, ``OP_DPOP_NONCE``, ``OP_REQUIRE_PAR``).
    """
    node, server = install_packages()
    redirect_uri = redirect_uri or f"http://127.0.0.1:{free_port()}/callback"
    origin = redirect_uri.split("/", 3)
    logout_uri = post_logout_redirect_uri or "/".join(origin[:3]) + "/signed-out"
    directory = Path(tempfile.mkdtemp(prefix="oidc-provider-"))
    by_key = _key_client(directory, [redirect_uri], [logout_uri])
    by_secret = _secret_client([redirect_uri], [logout_uri])
    by_key.metadata.update(key_client or {})
    by_secret.metadata.update(secret_client or {})
    clients_file = directory / "clients.json"
    clients_file.write_text(json.dumps([by_key.metadata, by_secret.metadata]))
    port = free_port()
    service = ServiceProcess(
        args=[node, str(server)],
        env={"PORT": str(port), "OP_CLIENTS_FILE": str(clients_file), "NODE_ENV": "test", **env},
        port=port,
        health_path="/.well-known/openid-configuration",
        log_path=directory / "provider.log",
    )
    provider = OpenIDProvider(service, directory, by_key, by_secret, redirect_uri, logout_uri)
    try:
        service.start()
        response = requests.get(service.url + "/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        provider.metadata = response.json()
    except BaseException as error:
        log = service.log_text()
        provider.stop()
        raise RuntimeError(f"oidc-provider did not start ({error}):\n{log}") from error
    return provider
