"""GUI tests: offscreen Qt, a throwaway config dir, and a small real library indexed once per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")          # before anything imports Qt
os.environ["SEEKWISE_CONFIG_DIR"] = tempfile.mkdtemp(prefix="seekwise-gui-config-")
# A throwaway home: the welcome view's suggestions (Documents, Desktop, Downloads) are never the real ones.
_HOME = tempfile.mkdtemp(prefix="seekwise-gui-home-")
os.environ["HOME"] = _HOME
for _var, _sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"), ("XDG_CACHE_HOME", ".cache"),
                   ("XDG_STATE_HOME", ".local/state")):
    os.environ[_var] = os.path.join(_HOME, _sub)
    os.makedirs(os.environ[_var], exist_ok=True)
os.makedirs(os.path.join(_HOME, "Documents"))
Path(_HOME, "Documents", "note.txt").write_text("a file for the welcome view to count\n")

import pytest  # noqa: E402

from seekwise.core.library import Library  # noqa: E402

DATA = Path(__file__).parents[1] / "data"
DEPOSIT_QUERY = "getting the security money back when I move out"   # tenancy-agreement.txt says "security bond"


@pytest.fixture(scope="session")
def indexed_dir(tmp_path_factory) -> Path:
    """A library over a copy of tests/data/corpus; tests only read it."""
    root = tmp_path_factory.mktemp("gui-lib")
    shutil.copytree(DATA / "corpus", root / "docs")
    with Library(root / "lib", threads=2) as lib:
        lib.index([root / "docs"])
    return root


@pytest.fixture
def themed(qapp):
    from seekwise.gui import theme
    theme.apply(qapp, "light")
    return qapp


def open_app(qtbot, data_dir, index: bool = False):
    """A SeekwiseApp over data_dir, its library open (off the GUI thread, as in the app)."""
    from PySide6.QtCore import QSettings

    from seekwise.gui.app import SeekwiseApp
    settings = QSettings(str(Path(os.environ["SEEKWISE_CONFIG_DIR"]) / "window.ini"), QSettings.Format.IniFormat)
    ctrl = SeekwiseApp(str(data_dir), index=index, window_settings=settings)
    qtbot.addWidget(ctrl.window)
    with qtbot.waitSignal(ctrl.library_opened, timeout=30000):
        ctrl.open()
    ctrl.window.show()
    return ctrl


@pytest.fixture
def app(qtbot, themed, indexed_dir):
    ctrl = open_app(qtbot, indexed_dir / "lib")
    yield ctrl
    ctrl.shutdown()


def search(qtbot, window, text: str, timeout: int = 20000):
    """Type a query and wait for its answer (not an older one)."""
    def newest(answer) -> bool:  # noqa: ANN001
        return answer.request.query == text.strip()
    with qtbot.waitSignal(window.results_shown, timeout=timeout, check_params_cb=newest) as blocker:
        window.search(text)
    return blocker.args[0]
