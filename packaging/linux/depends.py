"""The .deb's Depends, from the libraries the bundle's ELF files need but do not carry.

Reads every ELF's NEEDED entries (readelf), drops what the bundle holds itself, and maps each
remaining soname to its Debian/Ubuntu package: PACKAGES first (it knows the t64 renames), else the
build machine's package database (dpkg-query -S on the library's path). A soname neither knows stops
the build: a new Qt or wheel that needs one more system library must not become a .deb that
installs but cannot start.
It also holds the bundle's half of that split, for packaging/seekwise.spec: which libraries are left
to the system (SYSTEM_LIBS) and which only the optional GTK theme plugin needs (optional_only).
libc6's minimum is the newest GLIBC_x.y symbol version any of the bundle's files needs (the
interpreter's libpython comes from the build machine, and may need a newer glibc than the wheels).
Usage: python depends.py BUNDLE_DIR  ->  prints the Depends value
"""

from __future__ import annotations

import re
import shutil
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
    "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1", "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6", "libXext.so.6": "libxext6", "libXrender.so.1": "libxrender1",
    "libXi.so.6": "libxi6", "libXinerama.so.1": "libxinerama1", "libXrandr.so.2": "libxrandr2",
    "libXcursor.so.1": "libxcursor1", "libXfixes.so.3": "libxfixes3", "libXdamage.so.1": "libxdamage1",
    "libXcomposite.so.1": "libxcomposite1",
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
# Name prefixes of the libraries the bundle leaves to the system (the .deb Depends on them; install.sh
# checks them). A bundled copy of the X/Wayland/GL/GLib/GTK stack or libstdc++ is older than a newer
# distribution's and breaks the GL drivers and GTK theme it loads. "libX" is every X.Org client
# library (libX11, libXext, libXi, libXrandr, ...). We ship Python, our wheels' libraries, Qt with its
# ICU, and SQLite (FTS5).
SYSTEM_LIBS = ("libX", "libxcb", "libxkbcommon", "libxshmfence",
               "libwayland", "libGL", "libEGL", "libOpenGL", "libepoxy", "libdrm", "libgbm",
               "libglib-2.0", "libgio-2.0", "libgobject-2.0", "libgmodule-2.0", "libgthread-2.0",
               "libgtk", "libgdk", "libatk", "libatspi", "libcairo", "libpango", "libharfbuzz", "libfribidi",
               "libthai", "libdatrie", "libgraphite2", "libpixman", "libpng16", "libjpeg", "libfontconfig",
               "libfreetype", "libbrotli", "libpcre2", "libmount", "libblkid", "libselinux", "libbsd", "libmd.",
               "libdbus-1", "libsystemd", "libgcrypt", "libgpg-error", "liblz4", "libzstd", "libcap.",
               "libstdc++", "libgcc_s", "libssl", "libcrypto", "libgssapi_krb5", "libkrb5", "libk5crypto",
               "libcom_err", "libkeyutils", "libresolv", "libz.", "libbz2", "liblzma", "libffi",
               "libexpat", "libuuid")


def left_to_system(name: str) -> bool:
    """True for a library file name the bundle must not carry: the desktop's copy is the one to load."""
    return name.startswith(SYSTEM_LIBS)


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


def optional_only(binaries: list[tuple[str, str]]) -> set[str]:
    """The top-level (system-found) libraries among (dest, src) that only the OPTIONAL plugins need.

    With GTK 3 on the build machine PyInstaller follows libqgtk3 into the GTK stack (libXi, libepoxy,
    ...); without it, it does not. The plugin loads only on a desktop with GTK 3, which then has
    those libraries itself, so they are left out: the bundle must not depend on the build machine.
    """
    elf = {dest: Path(src) for dest, src in binaries if is_elf(Path(src))}
    top = {dest: dest for dest in elf if len(Path(dest).parts) == 1}
    deps = {dest: [top[n] for n in needed(src) if n in top] for dest, src in elf.items()}

    def reached(start) -> set[str]:
        seen: set[str] = set()
        todo = list(start)
        while todo:
            dest = todo.pop()
            if dest not in seen:
                seen.add(dest)
                todo.extend(deps[dest])
        return seen

    optional = {dest for dest in elf if Path(dest).as_posix().endswith(OPTIONAL)}
    via_optional = reached(optional) - optional
    # Everything else is a root, top-level libraries included unless only the plugin led to them
    # (a hook's library or libpython, which nothing NEEDs, must stay).
    roots = [d for d in elf if d not in optional and not (d in top and d in via_optional)]
    return {d for d in via_optional - reached(roots) if d in top}


def library_path(soname: str) -> Path | None:
    """Where the dynamic linker finds soname on this machine (x86-64; ldconfig's cache)."""
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/usr/sbin:/sbin")
    if ldconfig is None:
        return None
    out = subprocess.run([ldconfig, "-p"], check=False, capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, _, rest = line.strip().partition(" (")
        if name == soname and "x86-64" in rest.partition(")")[0]:
            return Path(rest.rpartition(" => ")[2])
    return None


def dpkg_package(soname: str) -> str:
    """The package that owns soname here, by dpkg's database; LookupError says why none."""
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        raise LookupError("no dpkg-query on PATH")
    path = library_path(soname)
    if path is None:
        raise LookupError("not found by ldconfig -p")
    # dpkg records the path as the package shipped it: the link or the real file, /lib or /usr/lib.
    paths = {str(path), str(path.resolve())}
    paths |= {p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p for p in paths}
    # Exit 1 when some of the paths are unowned: the owned one is still printed.
    out = subprocess.run([dpkg_query, "-S", *sorted(paths)], check=False, capture_output=True, text=True).stdout
    for line in out.splitlines():
        owners, _, owned = line.partition(": ")
        if owned in paths and not line.startswith("diversion "):
            return " | ".join(sorted({o.strip().partition(":")[0] for o in owners.split(",")}))
    raise LookupError(f"{path} belongs to no package (dpkg-query -S)")


def package(soname: str) -> str:
    """soname's package: the fixed table, else dpkg; LookupError when neither knows it."""
    return PACKAGES[soname] if soname in PACKAGES else dpkg_package(soname)


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
    packages, unknown = {}, []
    for soname in sorted(wanted):
        try:
            packages[soname] = package(soname)
        except LookupError as e:
            unknown.append(f"  {soname}: {e} (needed by {', '.join(sorted(wanted[soname])[:3])})")
    if unknown:
        raise SystemExit("depends.py: no package known for these libraries, neither in PACKAGES nor by dpkg:\n"
                         + "\n".join(unknown) + "\ninstall the package that provides each (so that dpkg knows "
                         "it), or add it to PACKAGES in packaging/linux/depends.py")
    glibc = f"{GLIBC} (>= {glibc_minimum(elf_files(bundle))})"
    return ", ".join(sorted({glibc if p == GLIBC else p for p in packages.values()}))


if __name__ == "__main__":
    print(depends(Path(sys.argv[1])))
