"""Is the machine running on battery? Qt has no portable answer, so we ask the OS where it is cheap."""

from __future__ import annotations

import ctypes
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

POWER_SUPPLY = Path("/sys/class/power_supply")


def on_battery(power_supply: Path = POWER_SUPPLY) -> bool | None:
    """True on battery, False on mains, None when the platform does not tell (or there is no battery)."""
    if sys.platform.startswith("linux"):
        return _linux(power_supply)
    if sys.platform == "win32":
        return _windows()
    return None  # macOS and others: not supported (pmset would mean a subprocess every poll)


def supported() -> bool:
    """Whether `on_battery` can ever answer here (the settings say so when it cannot)."""
    return sys.platform == "win32" or (sys.platform.startswith("linux") and POWER_SUPPLY.is_dir())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def _linux(base: Path) -> bool | None:
    """Mains online means not on battery; else a discharging battery means on battery."""
    try:
        supplies = sorted(base.iterdir())
    except OSError:
        return None
    mains_seen = battery_seen = discharging = False
    for supply in supplies:
        kind = _read(supply / "type")
        if kind in ("Mains", "USB", "USB_C", "USB_PD"):
            if _read(supply / "online") == "1":
                return False
            mains_seen = mains_seen or kind == "Mains"
        elif kind == "Battery" and _read(supply / "scope") != "Device":  # not a mouse's battery
            battery_seen = True
            discharging = discharging or _read(supply / "status") == "Discharging"
    if not battery_seen:
        return None
    return discharging or mains_seen


def _windows() -> bool | None:
    class SystemPowerStatus(ctypes.Structure):
        _fields_ = [("ACLineStatus", ctypes.c_ubyte), ("BatteryFlag", ctypes.c_ubyte),
                    ("BatteryLifePercent", ctypes.c_ubyte), ("SystemStatusFlag", ctypes.c_ubyte),
                    ("BatteryLifeTime", ctypes.c_ulong), ("BatteryFullLifeTime", ctypes.c_ulong)]

    status = SystemPowerStatus()
    try:
        if not ctypes.windll.kernel32.GetSystemPowerStatus(ctypes.byref(status)):  # type: ignore[attr-defined]
            return None
    except (AttributeError, OSError) as exc:
        log.info("cannot read the power status: %s", exc)
        return None
    if status.BatteryFlag == 128:  # no system battery
        return None
    return {0: True, 1: False}.get(status.ACLineStatus)


__all__ = ["on_battery", "supported"]
