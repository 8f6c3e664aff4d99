#!/usr/bin/env bash
# Build the Linux packages from a checkout, in one command:
#   packaging/build_linux.sh [--clean]
# leaves dist/seekwise/ (the PyInstaller onedir bundle), dist/seekwise_<version>_amd64.deb and
# dist/seekwise-<version>-linux-x86_64.tar.gz (bundle + install.sh; no AppImage: appimagetool is in
# neither PyPI nor Debian). Needs python3 (>= 3.10, with a shared libpython), dpkg-deb, readelf.
# --clean starts from a new build venv; otherwise build/venv is reused (the project is reinstalled).
# PYTHON picks the interpreter; SEEKWISE_MAINTAINER the .deb's Maintainer field.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# Build from the project as pip installs it into the build venv, never from a source tree on the
# path (app/ lacks seekwise.resources, which only the install maps in: no model would be bundled).
unset PYTHONPATH PYTHONHOME
PYTHON=${PYTHON:-python3}
VENV=build/venv
PYINSTALLER_VERSION=6.22.3
MAINTAINER=${SEEKWISE_MAINTAINER:-Seekwise maintainers <maintainers@seekwise.invalid>}

step() { printf '\n== %s\n' "$*"; }

if [ "${1:-}" = "--clean" ]; then
    rm -rf build dist
fi

step "build venv ($VENV)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# setuptools' build/lib would carry files deleted from app/ since the last build into the install.
rm -rf build/lib
"$VENV/bin/pip" install -q "pyinstaller==$PYINSTALLER_VERSION" .
"$VENV/bin/pip" install -q --no-deps --force-reinstall .   # this checkout, even at an unchanged version
VERSION=$("$VENV/bin/python" -c 'import seekwise; print(seekwise.__version__)')
echo "seekwise $VERSION"

step "icons"
rm -rf build/icons
"$VENV/bin/python" packaging/render_icons.py build/icons

step "bundle (PyInstaller)"
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/seekwise.spec
# The interpreter's own modules carry symbols (pyenv builds do), stripped as dh_strip would; wheels' libraries are left
# alone (stripping an auditwheel-patched library can break it), and so are the two executables,
# whose archive is appended to the ELF.
strip --strip-unneeded dist/seekwise/_internal/libpython*.so* dist/seekwise/_internal/python3*/lib-dynload/*.so
dist/seekwise/seekwise --version

DESKTOP_SRC=resources/linux/seekwise.desktop
METAINFO=app.seekwise.Seekwise.metainfo.xml
DATE=$(date -u +%Y-%m-%d)

# share/: desktop entry, hicolor icons (scalable + 16..512), AppStream metainfo; used by both packages.
stage_share() {
    local share=$1
    install -Dm644 "$DESKTOP_SRC" "$share/applications/seekwise.desktop"
    sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$DATE/" "packaging/linux/$METAINFO" \
        | install -Dm644 /dev/stdin "$share/metainfo/$METAINFO"
    for n in 16 22 24 32 48 64 128 256 512; do
        install -Dm644 "build/icons/hicolor/${n}x${n}/apps/seekwise.png" \
            "$share/icons/hicolor/${n}x${n}/apps/seekwise.png"
    done
    install -Dm644 build/icons/hicolor/scalable/apps/seekwise.svg "$share/icons/hicolor/scalable/apps/seekwise.svg"
}

step ".deb"
PKG=build/deb/seekwise_${VERSION}_amd64
rm -rf "$PKG"
mkdir -p "$PKG/opt" "$PKG/usr/bin" "$PKG/DEBIAN"
cp -a dist/seekwise "$PKG/opt/seekwise"
ln -s /opt/seekwise/seekwise "$PKG/usr/bin/seekwise"
ln -s /opt/seekwise/seekwise-gui "$PKG/usr/bin/seekwise-gui"
stage_share "$PKG/usr/share"
install -Dm644 packaging/linux/copyright "$PKG/usr/share/doc/seekwise/copyright"
for page in seekwise seekwise-gui; do
    mkdir -p "$PKG/usr/share/man/man1"
    gzip -9n < "packaging/linux/$page.1" > "$PKG/usr/share/man/man1/$page.1.gz"
done
printf 'seekwise (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
    "$VERSION" "$VERSION" "$MAINTAINER" "$(date -uR)" | gzip -9n > "$PKG/usr/share/doc/seekwise/changelog.gz"
DEPENDS=$("$VENV/bin/python" packaging/linux/depends.py dist/seekwise)
INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@MAINTAINER@/$MAINTAINER/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
    -e "s/@DEPENDS@/$DEPENDS/" packaging/linux/control.in > "$PKG/DEBIAN/control"
install -Dm644 packaging/linux/lintian-overrides "$PKG/usr/share/lintian/overrides/seekwise"
install -m755 packaging/linux/postinst packaging/linux/postrm "$PKG/DEBIAN/"
find "$PKG" -path "$PKG/DEBIAN" -prune -o -type d -exec chmod 755 {} +
find "$PKG/opt" -name '*.so*' -type f -exec chmod 644 {} +   # libraries are loaded, not run
DEB=dist/seekwise_${VERSION}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB"

step "tarball"
TARDIR=build/tar/seekwise-$VERSION
rm -rf build/tar
mkdir -p "$TARDIR"
cp -a dist/seekwise "$TARDIR/seekwise"
stage_share "$TARDIR/share"
install -m755 packaging/linux/install.sh "$TARDIR/install.sh"
TARBALL=dist/seekwise-$VERSION-linux-x86_64.tar.gz
tar -C build/tar --owner=0 --group=0 -czf "$TARBALL" "seekwise-$VERSION"

step "checks"
# Shown, hints included; only an error (exit 1) stops the build.
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$PKG/usr/share/applications/seekwise.desktop"
else
    echo "desktop-file-validate (desktop-file-utils) not found: the desktop entry is not checked"
fi
if command -v appstreamcli >/dev/null; then appstreamcli validate --no-net "$PKG/usr/share/metainfo/$METAINFO"; fi
if command -v lintian >/dev/null && [ -z "${SEEKWISE_NO_LINTIAN:-}" ]; then
    lintian "$DEB" || true
fi

step "done"
du -sh dist/seekwise "$DEB" "$TARBALL"
