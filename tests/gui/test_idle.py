"""Full speed while the person is away: the policy, and the X11 idle time from a real X server
(Xvfb, input faked through XTEST), and the controller switching a running service."""

from __future__ import annotations

import shutil
import time

import pytest

from seekwise.core.idle import AWAY_AFTER_S, IdleProbe, Presence, away, full_speed_wanted
from xvfb import x_display  # noqa: F401 - fixture

from tests.gui.conftest import DATA, open_app


@pytest.mark.parametrize(("presence", "on_battery", "wanted"), [
    (Presence(idle_s=AWAY_AFTER_S + 1), False, True),       # no input for minutes, on mains
    (Presence(idle_s=AWAY_AFTER_S + 1), None, True),        # a desktop: no battery to speak of
    (Presence(idle_s=AWAY_AFTER_S + 1), True, False),       # never on battery
    (Presence(idle_s=4.0), False, False),                   # they are typing
    (Presence(idle_s=4.0, locked=True), False, True),       # locked a moment ago: away at once
    (Presence(locked=False, idle_hint=True), False, True),  # the desktop calls the session idle
    (Presence(locked=False, idle_hint=False), False, False),
    (Presence(), False, False),                             # nothing tells: the background budget
])
def test_full_speed_only_while_away_and_on_mains(presence, on_battery, wanted):
    assert full_speed_wanted(presence, on_battery) is wanted


def test_away_is_unknown_when_nothing_tells():
    assert away(Presence()) is None
    assert away(Presence(idle_s=10.0), after_s=5.0) is True


def test_x11_idle_time_counts_from_the_last_input(x_display):  # noqa: F811
    from Xlib import X, display
    from Xlib.ext import xtest
    probe = IdleProbe(display=x_display, platform="linux", env={"DISPLAY": x_display})
    if probe._x11 is None:
        pytest.skip("libXss (apt-get install libxss1) or the MIT-SCREEN-SAVER extension is missing")
    try:
        d = display.Display(x_display)
        xtest.fake_input(d, X.MotionNotify, x=20, y=20)
        d.sync()
        assert probe.presence().idle_s < 0.5
        time.sleep(1.2)
        assert probe.presence().idle_s >= 1.0
        xtest.fake_input(d, X.MotionNotify, x=40, y=30)      # the person is back
        d.sync()
        assert probe.presence().idle_s < 0.5
        d.close()
    finally:
        probe.close()


def test_a_wayland_session_is_not_judged_by_xwayland(x_display):  # noqa: F811
    """XWayland sees only X clients' input: it would call someone typing in a Wayland window idle."""
    probe = IdleProbe(display=x_display, platform="linux", env={"DISPLAY": x_display, "XDG_SESSION_TYPE": "wayland"})
    assert probe._x11 is None and probe.presence().idle_s is None
    probe.close()


def test_the_controller_gives_the_service_every_core_while_away(qtbot, themed, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DATA / "corpus", docs)
    ctrl = open_app(qtbot, tmp_path / "lib", index=True)
    try:
        ctrl.start_indexing([str(docs)])
        qtbot.waitUntil(lambda: ctrl.service is not None, timeout=10000)
        service = ctrl.service
        assert not service.state().full_speed
        ctrl.presence_changed(Presence(idle_s=AWAY_AFTER_S + 5), on_battery=False)
        assert service.state().full_speed
        ctrl.presence_changed(Presence(idle_s=0.3), on_battery=False)       # input again: at once
        assert not service.state().full_speed
        ctrl.presence_changed(Presence(locked=True), on_battery=True)       # locked, but on battery
        assert not service.state().full_speed
        ctrl.check_idle()                 # the real probe on this machine, off the GUI thread
        qtbot.waitUntil(lambda: ctrl.idle_probe is not None, timeout=5000)
        qtbot.wait(500)
        assert not service.state().full_speed    # offscreen, no session to be away from
    finally:
        ctrl.shutdown()
