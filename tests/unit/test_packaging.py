"""The container image, compose file and systemd units. Where a Docker daemon answers, the image is built and
its /healthz checked; where not, that test says so and the files are still checked: compose.yaml against
the Compose Specification's schema, the units with `systemd-analyze verify`, the Dockerfile's essentials."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"


def _docker_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on this machine"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info failed: {exc}"
    if info.returncode != 0:
        lines = [line for line in (info.stderr + info.stdout).splitlines() if "daemon" in line.lower()]
        return "no Docker daemon answers here (" + (lines[0].strip() if lines else "docker info failed") + ")"
    return None


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_replicas_behind_nginx_with_postgres_and_redis() -> None:
    from ruamel.yaml import YAML

    compose = YAML(typ="safe").load((PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "bot", "nginx", "migrate"} <= services.keys()
    assert services["bot"]["deploy"]["replicas"] == 2
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["bot"]["environment"]["YCBOT_STORAGE_URL"].startswith("postgresql://")
    nginx = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "server bot:8080" in nginx and "location = /metrics" in nginx


def test_dockerfile_essentials() -> None:
    lines = [line.strip() for line in (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    assert lines[[line.startswith("FROM ") for line in lines].index(True)].startswith("FROM python:3.11-slim")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any("tzdata" in line for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("/healthz" in line for line in lines)


def test_systemd_units_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (Debian package systemd); unit files not verified")
    for unit in UNITS.glob("*.service"):
        # The units name /opt/ycbot/.venv/bin/python; verify checks that it is executable, so point it here.
        text = unit.read_text(encoding="utf-8").replace("/opt/ycbot/.venv/bin/python", sys.executable)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "./ycbot-prepare.service", "./ycbot@8081.service"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_image_builds_and_answers_healthz() -> None:
    problem = _docker_problem()
    if problem:
        pytest.skip(f"image not built: {problem}; the files are checked by the other tests here")
    tag = "ycbot:test"
    build = subprocess.run(["docker", "build", "-t", tag, "."], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", "127.0.0.1::8080", tag], capture_output=True, text=True, check=True
    )
    container = run.stdout.strip()
    try:
        port = (
            subprocess.run(["docker", "port", container, "8080"], capture_output=True, text=True, check=True)
            .stdout.split(":")[-1]
            .strip()
        )
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)  # polling while the container starts, not a timing assumption
        user = subprocess.run(["docker", "exec", container, "id", "-u"], capture_output=True, text=True, check=True)
        assert user.stdout.strip() != "0"
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
