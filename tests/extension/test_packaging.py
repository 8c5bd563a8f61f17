"""Both distributions build, pass twine's checks, install into fresh venvs and work there.

The extension's wheel holds only the client; the sandbox's wheel holds the server, its files
and the pytest plugin; installed together they give a host's tests a working fixture; and the
README's own steps (``make test``'s venv, then ``pip install .``) leave the suite collectable.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

from tests.services import ROOT

pytestmark = pytest.mark.timeout(900)
Dists = dict[str, list[Path]]
SANDBOX_PACKAGE = ROOT / "sandbox" / "altitudeangel_sandbox"
SERVER_DEPENDENCIES = {"gunicorn", "flask-wtf", "wtforms"}
COPY_IGNORED = shutil.ignore_patterns(
    ".venv", ".git", ".run", "__pycache__", "*.egg-info", "build", "dist", "test-artifacts",
    "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache",
)  # fmt: skip


def run(args: list[str], cwd: Path | None = None, timeout: float = 600) -> str:
    """Run a command; fail the test with its output's tail when it fails."""
    done = subprocess.run(  # noqa: S603 - fixed argument lists
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{args[:4]} failed:\n{output[:1500]}\n...\n{output[-1500:]}"
    return done.stdout


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout's files, so building or installing leaves the checkout as it is."""
    copy = tmp_path_factory.mktemp("checkout") / "repo"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORED)
    return copy


@pytest.fixture(scope="module")
def dists(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist and the wheel (built from that sdist) of each distribution."""
    out = tmp_path_factory.mktemp("dist")
    built = {}
    for name, source in (("extension", checkout), ("sandbox", checkout / "sandbox")):
        run([sys.executable, "-m", "build", "--outdir", str(out / name), str(source)])
        built[name] = sorted((out / name).iterdir())
    return built


def wheel(dists: Dists, name: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(next(p for p in dists[name] if p.suffix == ".whl"))


def metadata(archive: zipfile.ZipFile) -> Message:
    path = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    return Parser().parsestr(archive.read(path).decode())


def requirement_names(message: Message) -> set[str]:
    return {
        re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower()
        for r in message.get_all("Requires-Dist", [])
    }


def test_the_extension_wheel_holds_no_sandbox_file_and_needs_no_server(dists: Dists) -> None:
    archive = wheel(dists, "extension")
    names = archive.namelist()
    assert all(n.startswith(("flask_altitudeangel/", "flask_altitudeangel-")) for n in names)
    assert not [n for n in names if "sandbox" in n]
    assert "flask_altitudeangel/templates/altitudeangel/error.html" in names
    requires = requirement_names(metadata(archive))
    assert not requires & SERVER_DEPENDENCIES
    assert "altitudeangel-sandbox" in requires  # only behind the "testing" extra:
    assert 'altitudeangel-sandbox; extra == "testing"' in metadata(archive).get_all("Requires-Dist")


def test_the_sandbox_wheel_carries_its_files_and_its_pytest_plugin(dists: Dists) -> None:
    archive = wheel(dists, "sandbox")
    names = set(archive.namelist())
    shipped = ("registry.json", "templates", "static", "processes.py", "testing.py")
    for path in sorted(p for p in SANDBOX_PACKAGE.rglob("*") if p.is_file()):
        relative = path.relative_to(SANDBOX_PACKAGE.parent).as_posix()
        if relative.split("/")[1] in shipped or path.name in shipped:
            assert relative in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = archive.read(entry_points).decode()
    assert "[pytest11]\naltitudeangel_sandbox = altitudeangel_sandbox.pytest_plugin" in text
    assert {"gunicorn", "flask-wtf", "requests"} <= requirement_names(metadata(archive))


def test_twine_check_strict_passes_for_both(dists: Dists) -> None:
    files = [str(p) for name in ("extension", "sandbox") for p in dists[name]]
    assert len(files) == 4
    output = run([sys.executable, "-m", "twine", "check", "--strict", *files])
    assert output.count("PASSED") == 4


@pytest.mark.parametrize("name", ["extension", "sandbox"])
def test_each_description_renders_outside_the_repository(dists: Dists, name: str) -> None:
    message = metadata(wheel(dists, name))
    assert message["Description-Content-Type"] == "text/markdown"
    urls = dict(u.split(", ", 1) for u in message.get_all("Project-URL", []))
    assert {"Source", "Documentation", "Issues"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())
    description = message.get_payload()
    assert len(description) > 1000
    targets = re.findall(r"\]\(([^)\s]+)", description) + re.findall(r'src="([^"]+)', description)
    relative = [t for t in targets if not t.startswith(("https://", "http://", "mailto:", "#"))]
    assert relative == [], "links that only resolve inside this repository"


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(path)
    return path / "bin" / "python"


HOST_TEST = """
import threading

import redis
from flask import Flask
from werkzeug.serving import make_server

from altitudeangel_sandbox.testing import Sandbox
from flask_altitudeangel import AltitudeAngel, login_required


def test_a_host_app_signs_in_against_the_fixture(altitudeangel_sandbox: Sandbox) -> None:
    app = Flask(__name__)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config.update(
        SECRET_KEY="host-test-secret-key-" + "h" * 32,
        AA_AUTH_URL=altitudeangel_sandbox.url,
        AA_API_URL=altitudeangel_sandbox.url,
        AA_CLIENT_ID=altitudeangel_sandbox.client_id,
        AA_CLIENT_SECRET=altitudeangel_sandbox.client_secret,
        AA_REDIRECT_URI=url + "/callback",
        AA_REDIS_URL=altitudeangel_sandbox.redis_url(1),
    )
    aa = AltitudeAngel(app)
    app.get("/me")(login_required(lambda: aa.user_api.get(aa.config.userprofile_url).json()))
    altitudeangel_sandbox.register_redirect_uri(url + "/callback", url + "/signed-out")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        me = altitudeangel_sandbox.sign_in(url).get(url + "/me", timeout=10).json()
    finally:
        server.shutdown()
    assert me["first_name"] == "Alice"
    assert redis.Redis.from_url(altitudeangel_sandbox.redis_url(1)).dbsize() > 0
"""

OUTSIDE_PYTEST = """
import importlib.util
from altitudeangel_sandbox.testing import Sandbox, running_sandbox
assert importlib.util.find_spec("pytest") is None
with running_sandbox() as sandbox:
    print(type(sandbox) is Sandbox, sandbox.token_url == sandbox.url + "/oauth/v2/token")
"""


def test_both_wheels_in_a_fresh_venv_give_a_host_a_working_fixture(
    dists: Dists, tmp_path: Path
) -> None:
    python = str(make_venv(tmp_path / "venv"))
    wheels = [
        str(p) for name in ("extension", "sandbox") for p in dists[name] if p.suffix == ".whl"
    ]
    run([python, "-m", "pip", "install", "--quiet", *wheels])
    run([python, "-m", "pip", "check"])
    # The helpers a host imports work without pytest, from a plain script.
    assert run([python, "-c", OUTSIDE_PYTEST], cwd=tmp_path).split() == ["True", "True"]
    pinned = next(line for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
                  if line.startswith("pytest=="))  # fmt: skip
    run([python, "-m", "pip", "install", "--quiet", pinned])
    host = tmp_path / "host"
    host.mkdir()
    (host / "test_host.py").write_text(HOST_TEST)
    output = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(host)], cwd=host)
    assert "1 passed" in output


def test_the_readme_steps_then_pip_install_dot_leave_the_suite_collectable(
    checkout: Path,
) -> None:
    """``make test``'s venv, then ``pip install .`` as the README says, then collection."""
    run(["make", ".venv/.installed"], cwd=checkout, timeout=900)
    bin_dir = checkout / ".venv" / "bin"
    run([str(bin_dir / "pip"), "install", "--quiet", "."], cwd=checkout)
    collected = run([str(bin_dir / "pytest"), "--collect-only", "-q", "-p", "no:cacheprovider"],
                    cwd=checkout)  # fmt: skip
    count = re.search(r"(\d+) tests collected", collected)
    assert count and int(count.group(1)) > 100, collected[-2000:]
    assert "error" not in collected.splitlines()[-1]


def test_the_app_image_copies_the_extension_and_no_sandbox() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    app_stage = dockerfile.split("AS app", 1)[1]
    copies = [line for line in app_stage.splitlines() if line.startswith("COPY")]
    assert any(re.search(r"\sflask_altitudeangel\s", line) for line in copies)
    assert not any("sandbox" in line for line in copies)
