"""The dependency arrows of README's "What is where", held by parsing every module's imports.

    run.py -> portal, db          portal (Flask portal, gradio_app, records) -> realtime, db
    train -> realtime             realtime (engine) -> nothing of ours but itself
    db -> nothing of ours         nothing outside train/ -> train

Every import counts, also those inside functions and under ``if TYPE_CHECKING``.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("realtime", "portal", "db", "train")
OURS = PACKAGES + ("run",)
WEB_AND_STORAGE = ("flask", "flask_login", "flask_wtf", "wtforms", "werkzeug", "gradio", "fastapi", "starlette",
                   "uvicorn", "a2wsgi", "peewee", "psycopg2", "fpdf", "db", "portal")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {"run": REPO / "run.py"}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Absolute names of every module ``name`` imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            submodules = {f"{module}.{alias.name}" for alias in node.names} & MODULES.keys()
            out.update(submodules)
            if len(submodules) < len(node.names):  # names from the module itself (not just its submodules)
                out.add(module)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _ours(imported: set[str]) -> set[str]:
    return {m for m in imported if m in MODULES}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_parser_sees_known_edges():
    assert "realtime.contract" in GRAPH["realtime.classifier"]
    assert "realtime.contract" in GRAPH["realtime.research.devmodel"]  # from .. import contract
    assert "portal.analyses.pdf" in GRAPH["portal.gradio_app.events"]
    assert "portal.web.factory" in GRAPH["run"]
    assert len(MODULES) > 60


def test_no_import_cycles():
    graph = {m: _ours(GRAPH[m]) - {m} for m in MODULES}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_db_imports_nothing_of_ours():
    bad = {m: sorted(i for i in _ours(GRAPH[m]) if _top(i) != "db") for m in MODULES if _top(m) == "db"}
    assert {m: b for m, b in bad.items() if b} == {}


def test_nothing_outside_train_imports_train():
    bad = {m: sorted(i for i in GRAPH[m] if _top(i) == "train") for m in MODULES if _top(m) != "train"}
    assert {m: b for m, b in bad.items() if b} == {}


def test_the_engine_knows_no_web_no_database_no_torch():
    forbidden = WEB_AND_STORAGE + ("torch", "torchvision", "train", "run")
    bad = {m: sorted(i for i in GRAPH[m] if _top(i) in forbidden) for m in MODULES if _top(m) == "realtime"}
    assert {m: b for m, b in bad.items() if b} == {}


def test_records_and_gradio_app_do_not_reach_into_the_flask_portal():
    flask_portal = {m for m in MODULES if _top(m) == "portal"
                    and not m.startswith(("portal.analyses", "portal.gradio_app")) and m != "portal"}
    for m in MODULES:
        if m.startswith("portal.analyses"):
            assert not GRAPH[m] & (flask_portal | {"portal.gradio_app"}), m
            assert not {_top(i) for i in GRAPH[m]} & {"flask", "gradio", "db"}, m


SERVICES = ("portal.museum", "portal.accounts")  # features: business rules, no web framework
FRAMEWORKS = ("flask", "flask_login", "flask_wtf", "wtforms", "werkzeug.exceptions", "fastapi",
              "starlette", "gradio", "a2wsgi", "uvicorn")
CHANNELS = ("portal.api", "portal.gradio_app", "portal.web.factory", "portal.web.museum_pages",
            "portal.web.museum_members", "portal.web.tokens", "portal.web.account", "portal.web.kiosk")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_feature_services_know_no_web_framework_and_no_channel():
    services = [m for m in MODULES if _within(m, SERVICES)]
    assert "portal.museum.roles" in services and "portal.accounts.tokens" in services
    bad = {m: sorted(i for i in GRAPH[m] if _within(i, FRAMEWORKS) or _within(i, CHANNELS))
           for m in services}
    assert {m: b for m, b in bad.items() if b} == {}


TORCHLESS_SERVER = r"""
import importlib.abc, json, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            raise ImportError(f"torch is blocked in this test: {name}")
sys.meta_path.insert(0, NoTorch())

data_dir, photo = sys.argv[1], sys.argv[2]
import run
import db
from fastapi.testclient import TestClient
from portal.config import load_config
from portal.gradio_app.events import Analyses, run_upload
from portal.analyses.settings import AnalysisSettings

config = load_config({}, data_dir=data_dir, secret_key="k" * 48, testing=True,
                     password_hash_method="pbkdf2:sha256:1000", log_file=data_dir + "/app.log")
settings = AnalysisSettings(warm_up=False, classifier_threads=1)
app = run.build_app(config, realtime_settings=settings)
with TestClient(app, follow_redirects=False) as client:
    assert client.get("/").status_code == 200
    assert client.get("/app/", headers={"accept": "application/json"}).status_code == 401
    with db.connection():
        user_id = db.create_user("ann", "ann@example.org", "x").id
    out = run_upload(Analyses(data_dir=config.data_dir, settings=settings), user_id, photo, "Visitors")
print(json.dumps({"faces": len(out.computation["result"]["faces"]), "pdf": out.pdf_path.read_bytes()[:4].decode(),
                  "torch": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision"))}))
"""


@pytest.mark.timeout(300)
def test_the_server_starts_and_analyses_a_photo_without_torch(tmp_path):
    import cv2

    from realtime.research.scenes import real_photo

    photo = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(real_photo("astronaut"), cv2.COLOR_RGB2BGR))
    out = subprocess.run([sys.executable, "-c", TORCHLESS_SERVER, str(tmp_path / "data"), str(photo)],
                         capture_output=True, text=True, cwd=REPO, timeout=280)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"faces": 1, "pdf": "%PDF", "torch": []}
