"""The desktop app answers `seekwise search` on its library while it runs, and stops on quit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from seekwise.cli import hit_json
from seekwise.core import query_server
from tests.gui.conftest import open_app


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="Unix sockets")
def test_the_app_answers_the_command_line_until_it_quits(qtbot, themed, indexed_dir):
    data = indexed_dir / "lib"
    ctrl = open_app(qtbot, data)
    try:
        assert ctrl.queries is not None, "the app does not answer command-line searches"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SEEKWISE_DATA_DIR=str(data))
        out = subprocess.run([sys.executable, "-m", "seekwise", "search", "mend a leaking bike", "--json", "-v"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "answered by the Seekwise running" in out.stderr
        hits = ctrl.library.search("mend a leaking bike", k=10)
        assert out.stdout == "".join(json.dumps(hit_json(r, h), ensure_ascii=False) + "\n"
                                     for r, h in enumerate(hits, 1))
        path = ctrl.queries.path
    finally:
        ctrl.shutdown()
    assert ctrl.queries is None and not os.path.exists(path)
    assert query_server.ask(data, query_server.SearchRequest("mend a leaking bike")) is None
