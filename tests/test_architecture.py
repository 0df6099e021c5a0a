"""The dependency arrows of README's "What is where", held by parsing every module's imports.

    run.py -> portal, db          portal (features and channels, rules below) -> realtime, db
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
    assert "portal.analyses.service" in GRAPH["portal.gradio_app.events"]
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


# ------------------------------------------------------------ portal/: features under thin channels (issue 19)
FEATURES = ("portal.analyses", "portal.museum", "portal.jobs", "portal.accounts")  # services, no web framework
CHANNELS = ("portal.web", "portal.api", "portal.gradio_app")  # thin adapters; only run.py wires them
FRAMEWORKS = ("flask", "flask_login", "flask_wtf", "flask_limiter", "wtforms", "werkzeug", "fastapi", "starlette",
              "gradio", "a2wsgi", "uvicorn")
BELOW = {"portal.accounts": ("portal.analyses", "portal.jobs", "portal.museum"),  # features import downward only
         "portal.jobs": ("portal.analyses",), "portal.museum": ("portal.analyses",), "portal.analyses": ()}
SHARED = ("portal.config",)  # every settings object is built there; features may take it
PORTAL_TOP_LEVEL_MAX = 6


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _package(module: str, packages: tuple[str, ...]) -> str | None:
    return next((p for p in packages if _within(module, (p,))), None)


def framework_violations(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Rule 1: a feature module importing a web framework or a channel."""
    bad = {m: sorted(i for i in imported if _within(i, FRAMEWORKS) or _within(i, CHANNELS))
           for m, imported in graph.items() if _within(m, FEATURES)}
    return {m: b for m, b in bad.items() if b}


def channel_violations(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Rule 2: a channel importing another channel."""
    bad = {}
    for m, imported in graph.items():
        own = _package(m, CHANNELS)
        if own:
            bad[m] = sorted(i for i in imported if _within(i, CHANNELS) and not _within(i, (own,)))
    return {m: b for m, b in bad.items() if b}


def upward_violations(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Rule 3: a feature importing a feature that is not below it (or anything of portal/ but portal.config)."""
    bad = {}
    for m, imported in graph.items():
        own = _package(m, FEATURES)
        if own:
            allowed = (own, *BELOW[own], *SHARED)
            bad[m] = sorted(i for i in imported if _top(i) == "portal" and i != "portal" and not _within(i, allowed))
    return {m: b for m, b in bad.items() if b}


def reads_environment(source: str) -> list[int]:
    """Rule 4: line numbers where ``source`` reads the environment (``os.environ`` other than an
    assignment to one of its keys, ``os.getenv``, ``from os import environ/getenv``)."""
    tree = ast.parse(source)
    stores = {id(node.value) for node in ast.walk(tree)
              if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "getenv", "environb") and id(node) not in stores:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and \
                {a.name for a in node.names} & {"environ", "getenv", "environb"}:
            lines.append(node.lineno)
    return sorted(lines)


def top_level_modules(names) -> list[str]:
    return sorted(m for m in names if m.count(".") == 1 and _top(m) == "portal" and
                  (REPO / (m.replace(".", "/") + ".py")).is_file())


def _engine_public() -> set[str]:
    tree = ast.parse((REPO / "realtime" / "__init__.py").read_text())
    names = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "__all__")
    return {elt.value for elt in names.elts}


def engine_violations(graph: dict[str, set[str]], public: set[str]) -> dict[str, list[str]]:
    """Rule 6: portal/ imports the engine as ``realtime`` or its public names, never other sub-modules."""
    allowed = {"realtime"} | {f"realtime.{name}" for name in public}
    bad = {m: sorted(i for i in imported if _top(i) == "realtime" and i not in allowed)
           for m, imported in graph.items() if _top(m) == "portal"}
    return {m: b for m, b in bad.items() if b}


def test_the_portal_rules_hold():
    features = [m for m in MODULES if _within(m, FEATURES)]
    assert {"portal.analyses.service", "portal.museum.recording", "portal.jobs.service",
            "portal.accounts.service"} <= set(features)
    assert framework_violations(GRAPH) == {}
    assert channel_violations(GRAPH) == {}
    assert upward_violations(GRAPH) == {}
    readers = {m: reads_environment(p.read_text()) for m, p in MODULES.items() if _top(m) == "portal"}
    assert {m: lines for m, lines in readers.items() if lines} == {"portal.config": readers["portal.config"]}
    assert len(top_level_modules(MODULES)) <= PORTAL_TOP_LEVEL_MAX, top_level_modules(MODULES)
    assert engine_violations(GRAPH, _engine_public()) == {}


def test_each_portal_rule_fails_on_a_planted_violation():
    """The rules above can fail: each one is shown a graph (or a source) that breaks it."""
    assert framework_violations({"portal.museum.x": {"flask"}, "portal.jobs.y": {"portal.web.kiosk"}}) == {
        "portal.museum.x": ["flask"], "portal.jobs.y": ["portal.web.kiosk"]}
    assert framework_violations({"portal.analyses.x": {"werkzeug.security"}}) == {
        "portal.analyses.x": ["werkzeug.security"]}
    assert channel_violations({"portal.api.analyses": {"portal.gradio_app.events", "portal.api.auth"}}) == {
        "portal.api.analyses": ["portal.gradio_app.events"]}
    assert upward_violations({"portal.analyses.service": {"portal.museum.recording"},
                              "portal.museum.x": {"portal.jobs.service", "portal.http", "portal.config"},
                              "portal.accounts.x": {"portal.jobs.service"}}) == {
        "portal.analyses.service": ["portal.museum.recording"], "portal.museum.x": ["portal.http", "portal.jobs.service"]}
    assert reads_environment("import os\nx = os.environ.get('A')\ny = os.getenv('B')\n"
                             "os.environ['C'] = '1'\n") == [2, 3]
    assert reads_environment("from os import environ\n") == [1]
    planted = {f"portal.m{i}" for i in range(7)}
    assert len([m for m in planted if m.count(".") == 1]) > PORTAL_TOP_LEVEL_MAX  # what the size rule refuses
    assert engine_violations({"portal.web.x": {"realtime.io", "realtime.contract", "realtime"}},
                             {"contract", "load_image"}) == {"portal.web.x": ["realtime.io"]}


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
from portal.analyses.service import Analyses
from portal.gradio_app.events import run_upload
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
