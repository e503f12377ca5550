"""End-to-end fixtures: `careloop local` (what `make run` starts) as a real process on a free
port, driven over HTTP; stopped with Ctrl-C (SIGINT) like a person would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    url: str
    staff_email: str
    staff_password: str
    process: subprocess.Popen
    log: Path

    def id_token(self) -> str:
        config = json.loads(urllib.request.urlopen(self.url + "/config.json", timeout=10).read())
        req = urllib.request.Request(
            config["cognito"]["endpoint"], method="POST",
            data=json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": config["cognito"]["clientId"],
                             "AuthParameters": {"USERNAME": self.staff_email, "PASSWORD": self.staff_password}}).encode(),
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"},
        )
        return json.loads(urllib.request.urlopen(req, timeout=10).read())["AuthenticationResult"]["IdToken"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_local(folder: Path, *args: str, env: dict[str, str] | None = None,
                  healthy_within: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """`careloop local <args>` as `make run` starts it, on a free port, until it answers /health;
    stopped with Ctrl-C (SIGINT) afterwards, which must take under 20 s."""
    port = _free_port()
    log = folder / "careloop-local.log"
    run_env = dict(os.environ, CARELOOP_PORT=str(port), PYTHONUNBUFFERED="1") | (env or {})
    # links point at this stack: the CLI uses its own URL unless told otherwise, and an in-process
    # LocalStack of another test may have left its own in the environment
    run_env.pop("CARELOOP_BOOKING_BASE_URL", None)
    cmd = [str(Path(sys.executable).parent / "careloop"), "local", *args]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + healthy_within  # a stack seeding history starts later
    while True:
        try:
            if urllib.request.urlopen(url + "/health", timeout=2).status == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"careloop local did not become healthy:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    yield url, proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("careloop local did not stop on Ctrl-C within 20 s")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    from careloop_local.runtime import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD

    folder = tmp_path_factory.mktemp("stack")
    with running_local(folder) as (url, proc):
        yield RunningStack(url, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, proc, folder / "careloop-local.log")


CHROMIUM = os.environ.get("CARELOOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser). Missing
    Chromium skips locally but fails in CI, where .ci/run installs it."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def open_as(browser, local_stack) -> Iterator:
    """`open_as(role, width=1280, height=860)`: a fresh page signed in as the role's demo user,
    its uncaught errors in `page.errors`; every context it opened is closed after the test."""
    from tests.e2e.webapp import new_page, sign_in

    contexts = []

    def signed_in(role: str, width: int = 1280, height: int = 860):
        context, page = new_page(browser, local_stack, width, height, timeout_ms=20_000, accept_downloads=True)
        contexts.append(context)
        sign_in(page, local_stack, role)
        return page

    yield signed_in
    for context in contexts:
        context.close()
