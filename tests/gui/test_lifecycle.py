"""First run to a started index, pause, errors in the status line, the event loop never stalls,
and `seekwise-gui --screenshot`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtGui import QImage

from tests.gui.conftest import DATA, DEPOSIT_QUERY, open_app, search

ROOT = Path(__file__).parents[2]


def wait_state(qtbot, ctrl, *states, timeout=60000):
    qtbot.waitUntil(lambda: ctrl.window.status.state is not None and ctrl.window.status.state.state in states,
                    timeout=timeout)


def test_first_run_welcome_to_a_started_index(qtbot, themed, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", docs)
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        w = ctrl.window
        assert w.stack.currentWidget() is w.welcome and ctrl.service is None
        w.welcome.folders.clear()                 # not the suggestions of whoever runs the tests
        w.welcome.add_folder(str(docs))
        qtbot.waitUntil(lambda: "About 6 files" in w.welcome.estimate_label.text(), timeout=10000)
        w.welcome.start_button.click()
        qtbot.waitUntil(lambda: w.stack.currentWidget() is w.search_page, timeout=10000)
        assert ctrl.service is not None and ctrl.library.roots() == [os.path.realpath(docs)]
        qtbot.waitUntil(lambda: w.status.status is not None and w.status.status.by_status.get("ok") == 6,
                        timeout=60000)
        assert "6 files indexed" in w.status.counts.text()
        answer = search(qtbot, w, DEPOSIT_QUERY)
        assert answer.rows[0].name == "tenancy-agreement.txt"
    finally:
        ctrl.shutdown()


def test_pause_and_resume_the_indexer(qtbot, themed, indexed_dir, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(indexed_dir / "lib", lib)
    ctrl = open_app(qtbot, lib, index=True)
    try:
        wait_state(qtbot, ctrl, "idle")
        ctrl.window.status.pause.click()
        wait_state(qtbot, ctrl, "paused")
        assert ctrl.service.paused and ctrl.window.status.pause.text() == "Resume"
        assert "paused" in ctrl.window.status.activity.text()
        ctrl.toggle_pause()
        wait_state(qtbot, ctrl, "idle", "scanning", "indexing")
        assert not ctrl.service.paused and ctrl.window.status.pause.text() == "Pause"
    finally:
        ctrl.shutdown()


def test_status_line_errors_say_which_files_and_why(qtbot, themed, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", docs)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not really a PDF at all \x00\x01\x02")
    from seekwise.core.library import Library
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.index([docs])
    ctrl = open_app(qtbot, tmp_path / "lib")
    try:
        status = ctrl.window.status
        qtbot.waitUntil(lambda: status.errors.isVisible(), timeout=10000)
        assert status.errors.text() == "1 error"
        status.errors.click()
        qtbot.waitUntil(lambda: getattr(ctrl.window, "problems_dialog", None) is not None, timeout=10000)
        tree = ctrl.window.problems_dialog.tree
        assert tree.topLevelItemCount() == 1
        item = tree.topLevelItem(0)
        assert item.text(0).endswith("broken.pdf") and item.text(1) == "error" and item.text(2)
    finally:
        ctrl.shutdown()


def test_event_loop_never_stalls_while_indexing_and_searching(qtbot, themed, tmp_path):
    """A 5 ms timer records the gaps between its ticks while the service indexes ~150 files and we
    type queries; the longest gap is how long the window could not repaint."""
    docs = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", docs)
    words = (DATA / "corpus" / "tenancy-agreement.txt").read_text().split()
    for i in range(150):
        start = (i * 37) % (len(words) - 60)
        (docs / f"note-{i:03}.txt").write_text(f"Note {i}. " + " ".join(words[start:start + 60 + i % 40]))
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        w = ctrl.window
        # Measured from a warm app: loading the model once at start-up imports onnxruntime's extension,
        # which holds the GIL for ~50 ms on this machine (py-spy --gil); that is start-up, not a stall
        # while indexing and typing, which is what this test holds to its target.
        qtbot.waitUntil(lambda: ctrl.warm, timeout=30000)
        w.welcome.folders.clear()
        w.welcome.add_folder(str(docs))
        gaps: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]

        def tick() -> None:
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now
        timer = QTimer(interval=5)
        timer.timeout.connect(tick)
        timer.start()
        w.welcome.start_button.click()
        queries = ["deposit", "deposit back", "rent paid monthly", "who repairs the roof", "ending the tenancy",
                   "security bond", "sourdough", "tax return"]
        deadline = time.monotonic() + 90
        typed = 0
        while time.monotonic() < deadline:
            state = w.status.state
            if typed >= len(queries) and state is not None and state.state == "idle" and \
                    w.status.status is not None and w.status.status.by_status.get("ok", 0) >= 150:
                break
            if typed < len(queries) and w.stack.currentWidget() is w.search_page:
                w.search(queries[typed])
                typed += 1
            qtbot.wait(120)
        timer.stop()
        assert typed == len(queries) and w.status.status.by_status.get("ok", 0) >= 150
        qtbot.waitUntil(lambda: w.answer is not None and w.answer.request.query == queries[-1], timeout=20000)
        gaps.sort()
        worst, p99 = gaps[-1], gaps[int(len(gaps) * 0.99)]
        print(f"event loop: {len(gaps)} ticks, longest gap {worst:.0f} ms, p99 {p99:.0f} ms")
        # Target: the longest gap under 50 ms (34-39 ms measured with the 2 cores otherwise quiet). A tick
        # gap also counts the OS not scheduling us at all, so on a loaded shared machine (load > 2.5 on
        # 2 cores: 68-116 ms seen) only the typical gap is held to the target and the worst to a ceiling.
        # The load average counts runnable tasks over all cores: per core, 1.0 means every core busy.
        load_per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
        assert p99 < 25 and worst < (50 if load_per_core < 1.0 else 150), \
            f"the GUI stalled for {worst} ms (load {load_per_core:.2f} per core)"
    finally:
        ctrl.shutdown()


def test_screenshot_command_renders_a_png(indexed_dir, tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT / "app"))
    done = subprocess.run([sys.executable, "-m", "seekwise.gui.launch", "--data-dir", str(indexed_dir / "lib"),
                           "--query", DEPOSIT_QUERY, "--screenshot", str(out), "--theme", "dark"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.width() >= 1000 and image.height() >= 600


def _power_supply(folder: Path, mains_online: bool) -> Path:
    """A sysfs-shaped power_supply folder: a laptop battery and its charger."""
    for name, values in {"AC": {"type": "Mains", "online": "1" if mains_online else "0"},
                         "BAT0": {"type": "Battery", "scope": "System",
                                  "status": "Charging" if mains_online else "Discharging"}}.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for key, value in values.items():
            (folder / name / key).write_text(value + "\n")
    return folder


def test_indexing_pauses_on_battery_and_resumes_on_mains(qtbot, themed, indexed_dir, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(indexed_dir / "lib", lib)
    ctrl = open_app(qtbot, lib, index=True)
    try:
        wait_state(qtbot, ctrl, "idle")
        ctrl.power_supply = _power_supply(tmp_path / "power", mains_online=False)
        ctrl.prefs.pause_on_battery = False
        ctrl.check_power()                      # the setting is off: on battery changes nothing
        qtbot.wait(300)
        assert not ctrl.service.paused
        ctrl.prefs.pause_on_battery = True
        ctrl.check_power()
        wait_state(qtbot, ctrl, "paused")
        _power_supply(ctrl.power_supply, mains_online=True)
        ctrl.check_power()
        wait_state(qtbot, ctrl, "idle", "scanning", "indexing")
        assert not ctrl.service.paused
        ctrl.toggle_pause()                     # the user's own pause is not undone by mains
        wait_state(qtbot, ctrl, "paused")
        ctrl.check_power()
        qtbot.wait(300)
        assert ctrl.service.paused
    finally:
        ctrl.shutdown()
