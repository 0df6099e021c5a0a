"""Scale-out behind a real reverse proxy: Debian's nginx, configured with
docs/deploy/nginx-two-apps.conf itself (ports changed), in front of two ``run.py`` processes and
two Celery workers sharing PostgreSQL, Redis and DATA_DIR.  Over real HTTP: a user logs in and
submits a video through nginx; both app processes (asked directly) see the job; a worker runs it;
the login rate limits (portal form and API token) are shared by the two processes through Redis;
X-Forwarded-For is believed only from nginx; nginx keeps a client on one app process (sticky, for Gradio)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db.testing import postgres_available

from .conftest import REDIS_URL, REPO, redis_ok, service_env, start_worker, stop
from .test_two_apps import _free_port, token, wait_up

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
SITE = REPO / "docs" / "deploy" / "nginx-two-apps.conf"
PROXY_ADDR = "127.0.0.2"  # nginx connects to the apps from this address: the only trusted proxy
OTHER_CLIENT = "127.0.0.3"  # a second client machine
PASSWORD = "Correct-Horse-42"

pytestmark = [pytest.mark.skipif(NGINX is None, reason="nginx is not installed (make nginx, as root)"),
              pytest.mark.skipif(not redis_ok(), reason=f"Redis not reachable at {REDIS_URL}"),
              pytest.mark.skipif(not postgres_available(), reason="PostgreSQL not reachable"),
              pytest.mark.slow]


def nginx_config(folder: Path, listen: int, apps: list[int]) -> Path:
    """A main nginx.conf that includes the documented site, its ports replaced by ours."""
    site = SITE.read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{listen};"), ("127.0.0.1:8001", f"127.0.0.1:{apps[0]}"),
                     ("127.0.0.1:8002", f"127.0.0.1:{apps[1]}"),
                     ("    location / {\n", f"    location / {{\n        proxy_bind {PROXY_ADDR};\n"
                                           "        add_header X-Upstream $upstream_addr always;\n")):
        assert site.count(old) == 1, f"{SITE} no longer has {old!r}"
        site = site.replace(old, new)
    (folder / "site.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "") +  # workers must read our 0700 temp folder
        f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{\n    access_log off;\n    {temp}\n    include {folder}/site.conf;\n}}\n")
    return folder / "nginx.conf"


def start_nginx(conf: Path) -> subprocess.Popen:
    args = [NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]
    check = subprocess.run(args[:-2] + ["-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    return subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_app(settings, port: int) -> subprocess.Popen:
    env = {**service_env(settings), "SECRET_KEY": "k" * 16 + "0123456789abcdef" * 2,
           "LOG_FILE": str(settings.data_dir / f"app-{port}.log"), "PROXY_COUNT": "1",
           "TRUSTED_PROXIES": PROXY_ADDR, "LOGIN_LIMIT": "3 per 15 minutes"}
    return subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=REPO, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def failed_login(client: httpx.Client, name: str = "ann", **headers) -> httpx.Response:
    return client.post("/login", headers=headers, data={"login": name, "password": "wrong-password-1",
                                                        "csrf_token": token(client, "/login")})


def test_two_apps_two_workers_behind_nginx(pg_settings, short_video, tmp_path):
    settings = pg_settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    apps, listen = [_free_port(), _free_port()], _free_port()
    procs = [start_app(settings, p) for p in apps] + [start_worker(settings), start_worker(settings)]
    try:
        procs.append(start_nginx(nginx_config(tmp_path, listen, apps)))
        a, b = (f"http://127.0.0.1:{p}" for p in apps)
        proxy = f"http://127.0.0.1:{listen}"
        for url in (a, b, proxy):
            wait_up(url)
        web = httpx.Client(base_url=proxy)  # a browser, through nginx
        upstreams = {web.get("/healthz").headers["x-upstream"] for _ in range(6)}
        assert len(upstreams) == 1 and upstreams <= {f"127.0.0.1:{p}" for p in apps}  # sticky
        r = web.post("/register", data={"username": "ann", "email": "ann@example.org", "password": PASSWORD,
                                        "confirm": PASSWORD, "csrf_token": token(web, "/register")})
        assert r.status_code == 302, r.text
        web = httpx.Client(base_url=proxy)  # another browser: logs in through nginx
        r = web.post("/login", data={"login": "ann", "password": PASSWORD, "csrf_token": token(web, "/login")})
        assert r.status_code == 302 and web.get("/videos").status_code == 200

        _video_through_nginx(proxy, a, b, short_video)
        _login_limit_shared_and_proxy_trusted(proxy, a, b)
        _token_limit_sees_the_client_behind_nginx(proxy, a, b)
    finally:
        for p in reversed(procs):
            stop(p)


def _video_through_nginx(proxy: str, a: str, b: str, video: Path) -> None:
    bearer = httpx.post(f"{proxy}/api/v1/token", data={"username": "ann", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {bearer['access_token']}"}
    r = httpx.post(f"{proxy}/api/v1/videos", headers=auth, data={"title": "via nginx", "preset": "close"},
                   files={"video": ("visit.mp4", video.read_bytes(), "video/mp4")}, timeout=60)
    assert r.status_code == 202, r.text
    job_id, video_id = r.json()["job_id"], r.json()["video_id"]
    seen = {url: httpx.get(f"{url}/api/v1/jobs/{job_id}", headers=auth).json() for url in (a, b)}
    assert all(s["video_id"] == video_id and s["kind"] == "video" for s in seen.values()), seen
    deadline, job = time.monotonic() + 240, {}
    while time.monotonic() < deadline:
        job = httpx.get(f"{b if int(time.monotonic()) % 2 else a}/api/v1/jobs/{job_id}", headers=auth).json()
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.5)
    assert job["status"] == "done", job
    assert job["worker"].startswith("celery@")  # run by a worker, not by an app process
    for url in (a, b):
        doc = httpx.get(f"{url}/api/v1/videos/{video_id}", headers=auth).json()
        assert doc["status"] == "done" and doc["frames_analysed"] == 30 and len(doc["tracks"]) == 1
    csv = httpx.get(f"{proxy}/api/v1/videos/{video_id}/timeline.csv", headers=auth)
    assert csv.status_code == 200 and csv.text.startswith("t,frame,track_id")


def _login_limit_shared_and_proxy_trusted(proxy: str, a: str, b: str) -> None:
    direct_a, direct_b = httpx.Client(base_url=a), httpx.Client(base_url=b)
    direct_b.cookies = direct_a.cookies  # one browser session (signed with the shared SECRET_KEY)
    for client in (direct_a, direct_b, direct_a):  # LOGIN_LIMIT 3: spread over both processes
        r = failed_login(client)
        assert r.status_code == 401 and "Too many failed attempts" not in r.text  # wrong password, counted
    assert failed_login(direct_b).status_code == 429  # the count is shared through Redis
    # a forged X-Forwarded-For sent straight to an app is ignored (not from nginx) ...
    assert failed_login(direct_a, **{"X-Forwarded-For": "10.1.2.3"}).status_code == 429
    # ... and through nginx the app takes the address nginx appended, not the client's claim
    via_proxy = httpx.Client(base_url=proxy)
    assert failed_login(via_proxy, **{"X-Forwarded-For": "10.1.2.3"}).status_code == 429
    # nginx's header is believed: another client machine, through nginx, has its own count
    other = httpx.Client(base_url=proxy, transport=httpx.HTTPTransport(local_address=OTHER_CLIENT))
    r = failed_login(other)
    assert r.status_code == 401 and "Too many failed attempts" not in r.text  # wrong password, counted


def _failed_token(base: str, transport: httpx.HTTPTransport | None = None, **headers) -> int:
    with httpx.Client(base_url=base, transport=transport) as client:
        return client.post("/api/v1/token", headers=headers,
                           data={"username": "bea", "password": "wrong-password-1"}).status_code


def _token_limit_sees_the_client_behind_nginx(proxy: str, a: str, b: str) -> None:
    """POST /api/v1/token counts failures per client address too: through nginx that is the
    address nginx forwards (believed from nginx only), shared by both processes through Redis."""
    assert [_failed_token(a), _failed_token(b), _failed_token(proxy, **{"X-Forwarded-For": "10.9.9.9"})] == [401] * 3
    assert _failed_token(proxy) == 429 and _failed_token(a, **{"X-Forwarded-For": "10.9.9.9"}) == 429
    assert _failed_token(proxy, httpx.HTTPTransport(local_address=OTHER_CLIENT)) == 401  # another client
