"""The .deb's Depends, from the libraries the bundle's ELF files need but do not carry.

Reads every ELF's NEEDED entries (readelf), drops what the bundle holds itself, and maps each
remaining soname to its Debian/Ubuntu package. An unknown soname stops the build: a new Qt or
wheel that needs one more system library must not become a .deb that installs but cannot start.
libc6's minimum is the newest GLIBC_x.y symbol version any of the bundle's files needs (the
interpreter's libpython comes from the build machine, and may need a newer glibc than the wheels).
Usage: python depends.py BUNDLE_DIR  ->  prints the Depends value
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GLIBC = "libc6"  # its minimum version is read from the bundle, see glibc_needed()
# "new | old": Debian 13 / Ubuntu 24.04 renamed these in the 64-bit time_t transition.
GLIB = "libglib2.0-0t64 | libglib2.0-0"
PACKAGES = {
    "libc.so.6": GLIBC, "libm.so.6": GLIBC, "libdl.so.2": GLIBC, "libpthread.so.0": GLIBC,
    "librt.so.1": GLIBC, "libutil.so.1": GLIBC, "libresolv.so.2": GLIBC, "ld-linux-x86-64.so.2": GLIBC,
    "libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1",
    "libz.so.1": "zlib1g", "libbz2.so.1.0": "libbz2-1.0", "liblzma.so.5": "liblzma5",
    "libzstd.so.1": "libzstd1", "libffi.so.8": "libffi8", "libexpat.so.1": "libexpat1",
    "libuuid.so.1": "libuuid1", "libcrypto.so.3": "libssl3t64 | libssl3", "libssl.so.3": "libssl3t64 | libssl3",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libbrotlidec.so.1": "libbrotli1", "libbrotlicommon.so.1": "libbrotli1",
    "libglib-2.0.so.0": GLIB, "libgthread-2.0.so.0": GLIB, "libgobject-2.0.so.0": GLIB, "libgio-2.0.so.0": GLIB,
    "libdbus-1.so.3": "libdbus-1-3", "libfontconfig.so.1": "libfontconfig1", "libfreetype.so.6": "libfreetype6",
    "libGL.so.1": "libgl1", "libEGL.so.1": "libegl1", "libOpenGL.so.0": "libopengl0",
    "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb.so.1": "libxcb1", "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-glx.so.0": "libxcb-glx0",
    "libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
# Loaded only where the desktop has them (Qt skips the plugin otherwise): no dependency.
OPTIONAL = ("platformthemes/libqgtk3.so",)


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def glibc_needed(path: Path) -> set[tuple[int, ...]]:
    """The GLIBC_x.y[.z] versions in the file's version needs (.gnu.version_r)."""
    out = subprocess.run(["readelf", "-V", "--wide", str(path)], capture_output=True, text=True, check=True).stdout
    needs = out.partition("Version needs section")[2]  # not the definitions: those are a library's own
    return {tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9][0-9.]*[0-9])\b", needs)}


def elf_files(bundle: Path) -> list[Path]:
    return [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]


def glibc_minimum(files: list[Path]) -> str:
    versions = set().union(*(glibc_needed(f) for f in files))
    if not versions:
        raise SystemExit("depends.py: no GLIBC symbol versions found in the bundle")
    return ".".join(map(str, max(versions)))


def system_sonames(bundle: Path) -> dict[str, set[str]]:
    """soname -> the bundle files that need it, for sonames the bundle does not carry."""
    files = elf_files(bundle)
    carried = {p.name for p in bundle.rglob("*")}
    wanted: dict[str, set[str]] = {}
    for f in files:
        rel = f.relative_to(bundle).as_posix()
        if rel.endswith(OPTIONAL):
            continue
        for soname in needed(f):
            if soname not in carried:
                wanted.setdefault(soname, set()).add(rel)
    return wanted


def depends(bundle: Path) -> str:
    wanted = system_sonames(bundle)
    unknown = sorted(s for s in wanted if s not in PACKAGES)
    if unknown:
        lines = [f"  {s} (needed by {', '.join(sorted(wanted[s])[:3])})" for s in unknown]
        raise SystemExit("depends.py: no package known for:\n" + "\n".join(lines)
                         + "\nadd them to PACKAGES in packaging/linux/depends.py")
    glibc = f"{GLIBC} (>= {glibc_minimum(elf_files(bundle))})"
    return ", ".join(sorted({glibc if PACKAGES[s] == GLIBC else PACKAGES[s] for s in wanted}))


if __name__ == "__main__":
    print(depends(Path(sys.argv[1])))
