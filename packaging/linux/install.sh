#!/bin/sh
# Install (or with --uninstall remove) Seekwise from this unpacked tarball.
#   ./install.sh             for you: ~/.local/lib/seekwise, ~/.local/bin, your menu
#   sudo ./install.sh        for everyone: /opt/seekwise, /usr/local/bin, the system menu
#   ./install.sh --uninstall (with sudo if it was installed for everyone)
# Your library (~/.local/share/seekwise) is never touched.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
    APP=/opt/seekwise BIN=/usr/local/bin SHARE=/usr/local/share
else
    APP=$HOME/.local/lib/seekwise BIN=$HOME/.local/bin SHARE=${XDG_DATA_HOME:-$HOME/.local/share}
fi
DESKTOP=$SHARE/applications/seekwise.desktop
METAINFO=$SHARE/metainfo/app.seekwise.Seekwise.metainfo.xml

refresh_caches() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true
    [ -f "$SHARE/icons/hicolor/index.theme" ] && command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" || true
}

uninstall() {
    # Only what install put there: the app folder, our two links, our menu entry, icons, metainfo.
    for link in "$BIN/seekwise" "$BIN/seekwise-gui"; do
        case "$(readlink "$link" 2>/dev/null)" in "$APP"/*) rm -f "$link" ;; esac
    done
    rm -rf "$APP"
    rm -f "$DESKTOP" "$METAINFO"
    find "$SHARE/icons/hicolor" -path '*/apps/seekwise.*' -delete 2>/dev/null || true
    refresh_caches
    echo "Seekwise removed (your library and settings are kept)."
}

if [ "${1:-}" = "--uninstall" ]; then
    uninstall
    exit 0
fi

rm -rf "$APP"
mkdir -p "$APP" "$BIN" "$SHARE/applications" "$SHARE/metainfo"
cp -R "$HERE/seekwise/." "$APP/"
ln -sf "$APP/seekwise" "$BIN/seekwise"
ln -sf "$APP/seekwise-gui" "$BIN/seekwise-gui"
# The menu entry names the program by its full path: ~/.local/bin is often not on a desktop's PATH.
sed -e "s|^Exec=seekwise-gui|Exec=$APP/seekwise-gui|" -e "s|^TryExec=seekwise-gui|TryExec=$APP/seekwise-gui|" \
    "$HERE/share/applications/seekwise.desktop" > "$DESKTOP"
cp "$HERE/share/metainfo/app.seekwise.Seekwise.metainfo.xml" "$METAINFO"
cp -R "$HERE/share/icons" "$SHARE/"
refresh_caches

# The command line needs nothing more; the window needs the desktop's X11/Wayland libraries.
missing=$(ldd "$APP/_internal/PySide6/Qt/plugins/platforms/libqxcb.so" 2>/dev/null | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
    echo "Note: the Seekwise window needs these system libraries, not found here:" $missing
    echo "  Debian/Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libegl1"
    echo "  Fedora: sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms libxkbcommon-x11 libglvnd-egl"
fi
echo "Seekwise $("$APP/seekwise" --version | cut -d' ' -f2) installed in $APP."
case ":$PATH:" in *":$BIN:"*) ;; *) echo "Add $BIN to your PATH to run 'seekwise' from a terminal." ;; esac
