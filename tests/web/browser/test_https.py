"""Behind the example reverse proxy (deploy/nginx/pustula.conf, Debian's nginx) with a
self-signed certificate: sign-in and a visit save pass over HTTPS with secure cookies, and
``/metrics`` (reachable from this machine only) counts them."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Browser, expect

from pustula.demo import create_demo_study, create_demo_users
from pustula.settings import Settings
from pustula.store import Store
from pustula.web import create_app
from tests.web.browser.helpers import SHOTS, sign_in

pytestmark = pytest.mark.browser
EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "pustula.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    crt, pem = folder / "pustula.crt", folder / "pustula.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))  # fmt: skip
    return crt, pem


def _config(folder: Path, *, app_port: int, http_port: int, tls_port: int) -> Path:
    """The example file as it is, with this machine's ports and paths put in."""
    crt, pem = _self_signed(folder)
    site = (EXAMPLE.read_text()
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;")
            .replace("/etc/ssl/certs/pustula.crt", str(crt))
            .replace("/etc/ssl/private/pustula.key", str(pem)))  # fmt: skip
    assert f"127.0.0.1:{app_port}" in site and str(pem) in site
    (folder / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}daemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        "worker_processes 1;\nevents {}\nhttp {\n"
        f"  access_log {folder}/access.log;\n"
        + "".join(f"  {kind}_temp_path {folder}/{kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include {folder}/site.conf;\n}}\n"
    )  # fmt: skip
    return main


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(NGINX).exists():
        if os.environ.get("PUSTULA_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail("nginx is missing although the browser tests are required")
        pytest.skip("Debian's nginx is not installed")
    import uvicorn

    folder = tmp_path_factory.mktemp("https")
    store = Store.open(f"sqlite:///{folder / 'https.sqlite3'}")
    store.create_schema()
    create_demo_study(store)
    create_demo_users(store)
    settings = Settings(secret_key="https-secret-0123456789-0123456789", secure_cookies=True)
    app_port, http_port, tls_port = _port(), _port(), _port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1",
                                           port=app_port, log_level="warning",
                                           forwarded_allow_ips="127.0.0.1"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    config = _config(folder, app_port=app_port, http_port=http_port, tls_port=tls_port)
    test = subprocess.run([NGINX, "-t", "-c", str(config)], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(config)])
    for _ in range(200):
        if server.started:
            try:
                socket.create_connection(("127.0.0.1", tls_port), timeout=0.2).close()
                break
            except OSError:
                pass
        time.sleep(0.05)
    yield f"https://127.0.0.1:{tls_port}"
    nginx.terminate()
    nginx.wait(timeout=10)
    server.should_exit = True
    thread.join(timeout=10)
    store.dispose()


def test_sign_in_and_a_visit_save_pass_over_https_and_metrics_count_them(
    browser: Browser, proxied: str
) -> None:
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    sign_in(page, proxied, "investigator")
    cookie = next(c for c in context.cookies() if c["name"] == "pustula_session")
    assert cookie["secure"] and cookie["httpOnly"]
    page.goto(f"{proxied}/subjects/S02")
    page.locator("#visits tr", has_text="Week 2").locator("a", has_text="Change date").click()
    page.fill("#visit_date", "2024-04-02")
    page.fill("#reason", "date transcribed wrongly from the clinic sheet")
    page.click("#action-form button[type=submit]")
    expect(page.locator("#visits")).to_contain_text("2024-04-02")
    page.screenshot(path=str(SHOTS / "https-01-saved-behind-nginx.png"), full_page=True)
    assert page.url.startswith("https://")
    metrics = context.request.get(f"{proxied}/metrics")
    assert metrics.status == 200
    text = metrics.text()
    assert 'pustula_saves_total{route="visit_date_save"} 1.0' in text
    assert 'route="login",status="303"' in text
    context.close()
