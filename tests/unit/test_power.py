"""Battery detection from a sysfs-shaped folder (the real /sys is whatever this machine is)."""

from __future__ import annotations

import sys

import pytest

from seekwise.core import power

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux sysfs")


def supply(base, name, **files):
    folder = base / name
    folder.mkdir(parents=True)
    for key, value in files.items():
        (folder / key).write_text(value + "\n")


def test_mains_online_is_not_battery(tmp_path):
    supply(tmp_path, "AC", type="Mains", online="1")
    supply(tmp_path, "BAT0", type="Battery", status="Charging")
    assert power.on_battery(tmp_path) is False


def test_unplugged_laptop_is_on_battery(tmp_path):
    supply(tmp_path, "AC", type="Mains", online="0")
    supply(tmp_path, "BAT0", type="Battery", status="Discharging")
    assert power.on_battery(tmp_path) is True


def test_a_desktop_or_a_mouse_battery_does_not_count(tmp_path):
    assert power.on_battery(tmp_path) is None
    supply(tmp_path, "hidpp_battery_0", type="Battery", scope="Device", status="Discharging")
    assert power.on_battery(tmp_path) is None
    assert power.on_battery(tmp_path / "missing") is None


def test_a_usb_c_charger_online_is_mains_even_with_a_discharging_flag(tmp_path):
    supply(tmp_path, "BAT0", type="Battery", status="Discharging")   # some firmware lags the charger
    supply(tmp_path, "ucsi-source-psy-1", type="USB_C", online="1")
    assert power.on_battery(tmp_path) is False


def test_a_battery_without_a_charger_entry_that_is_not_discharging_is_not_on_battery(tmp_path):
    supply(tmp_path, "BAT1", type="Battery", status="Full")
    assert power.on_battery(tmp_path) is False


def test_this_machine_answers_from_its_own_sysfs():
    """The default folder is the real /sys/class/power_supply: no system battery there means None."""
    folder = power.POWER_SUPPLY
    batteries = [d for d in (folder.iterdir() if folder.is_dir() else [])
                 if power._read(d / "type") == "Battery" and power._read(d / "scope") != "Device"]
    answer = power.on_battery()
    assert power.supported() is folder.is_dir()
    if not batteries:
        assert answer is None
    else:
        assert answer in (True, False)
