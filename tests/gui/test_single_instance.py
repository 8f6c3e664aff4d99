"""One instance per library: a second claim fails and its message reaches the first, in-process and
from another process; a socket left by a crashed instance is recovered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from seekwise.gui.single_instance import SingleInstance  # noqa: E402

APP = str(Path(__file__).parents[2] / "app")

SECOND_LAUNCH = """
import sys
from PySide6.QtCore import QCoreApplication
from seekwise.gui.single_instance import SingleInstance
app = QCoreApplication([])
me = SingleInstance(sys.argv[1])
if me.claim():
    print("first")
else:
    print("sent" if me.send(sys.argv[2]) else "not sent")
"""

CRASHING_FIRST = """
import os, sys
from PySide6.QtCore import QCoreApplication
from seekwise.gui.single_instance import SingleInstance
app = QCoreApplication([])
me = SingleInstance(sys.argv[1])
assert me.claim()
print(me.server_name, flush=True)
os._exit(0)   # like a crash: nothing is cleaned up
"""


def run(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=APP, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_key_depends_on_the_data_dir(tmp_path):
    a, b = SingleInstance.key_for(tmp_path / "a"), SingleInstance.key_for(tmp_path / "b")
    assert a != b and a == SingleInstance.key_for(tmp_path / "a") and len(a) < 100


def test_two_in_one_process(qtbot, tmp_path):
    key = SingleInstance.key_for(tmp_path)
    first, second = SingleInstance(key), SingleInstance(key)
    assert first.claim() and first.listening
    assert not second.claim()
    with qtbot.waitSignal(first.message_received, timeout=5000) as got:
        assert second.send("show:deposit back")
    assert got.args == ["show:deposit back"]
    with qtbot.waitSignals([first.message_received] * 2, timeout=5000):
        assert second.send("background")
        assert second.send("show")
    first.release()
    assert second.claim()  # the first let go: the next launch is the first


def test_a_second_process_hands_over_its_request(qtbot, tmp_path):
    key = SingleInstance.key_for(tmp_path)
    first = SingleInstance(key)
    assert first.claim()
    with qtbot.waitSignal(first.message_received, timeout=30000) as got:
        proc = run(SECOND_LAUNCH, key, "show:how do I get my deposit back")
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "sent", err
    assert got.args == ["show:how do I get my deposit back"]
    first.release()
    proc = run(SECOND_LAUNCH, key, "show")  # nobody listens now: that launch becomes the first
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "first", err


def test_a_socket_left_by_a_crash_is_recovered(qtbot, tmp_path):
    key = SingleInstance.key_for(tmp_path)
    proc = run(CRASHING_FIRST, key)
    out, err = proc.communicate(timeout=60)
    assert out.strip(), err
    if sys.platform != "win32":  # a named pipe dies with its process; a Unix socket file stays
        assert Path(out.strip()).exists()
    survivor, other = SingleInstance(key), SingleInstance(key)
    assert survivor.claim()
    with qtbot.waitSignal(survivor.message_received, timeout=5000):
        assert other.send("show")
    survivor.release()
