"""run.py's whole server in a thread, for tests that attack it over real HTTP: ``run.build_app``
served by uvicorn with ``run.server_options`` (the options production runs with) on a free port."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import db
from tests.helpers import SECRET
from tests.helpers.app import free_port


def portal_config(tmp_path: Path, env: dict | None = None, **overrides):
    """A development configuration on SQLite in ``tmp_path`` (``env``: environment variables)."""
    from portal.config import load_config

    values = dict(data_dir=tmp_path / "data", secret_key=SECRET, testing=True,
                  password_hash_method="pbkdf2:sha256:1000", log_file=tmp_path / "logs" / "app.log")
    return load_config(env or {}, **{**values, **overrides})


@contextmanager
def live_server(config, realtime: bool = False, **build):
    """Yields ``(base url, root app)``; stops the server and the job pool afterwards."""
    import uvicorn

    import run

    app = run.build_app(config, realtime=realtime, **build)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, **{**run.server_options(config), "port": port}))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        app.state.flask_app.extensions["jobs"].shutdown(wait=True)
        db.database.obj.close()
