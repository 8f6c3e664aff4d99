#!/bin/sh
# Install (or with --uninstall remove) Seekwise from this unpacked tarball.
#   ./install.sh             for you: ~/.local/lib/seekwise, ~/.local/bin, your menu
#   sudo ./install.sh        for everyone: /usr/local/lib/seekwise, /usr/local/bin, the system menu
#   ./install.sh --uninstall (with sudo if it was installed for everyone)
# Your library (~/.local/share/seekwise) is never touched. /opt/seekwise is the .deb's: never here.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
    APP=/usr/local/lib/seekwise BIN=/usr/local/bin SHARE=/usr/local/share
else
    APP=$HOME/.local/lib/seekwise BIN=$HOME/.local/bin SHARE=${XDG_DATA_HOME:-$HOME/.local/share}
fi
DESKTOP=$SHARE/applications/seekwise.desktop
METAINFO=$SHARE/metainfo/app.seekwise.Seekwise.metainfo.xml
CREATED=$APP/.created-dirs   # folders install made (icons, metainfo, bin...): uninstall removes them if empty

refresh_caches() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true
    [ -f "$SHARE/icons/hicolor/index.theme" ] && command -v gtk-update-icon-cache >/dev/null 2>&1 &&
        gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" || true
}

uninstall() {
    # Only what install put there: the app folder, our two links, our menu entry, icons, metainfo,
    # and the folders it created for them once they are empty.
    for link in "$BIN/seekwise" "$BIN/seekwise-gui"; do
        case "$(readlink "$link" 2>/dev/null)" in "$APP"/*) rm -f "$link" ;; esac
    done
    created=$(cat "$CREATED" 2>/dev/null || true)
    rm -rf "$APP"
    rm -f "$DESKTOP" "$METAINFO"
    find "$SHARE/icons/hicolor" -path '*/apps/seekwise.*' -delete 2>/dev/null || true
    refresh_caches
    # A menu folder we created and no longer use holds only update-desktop-database's cache.
    case "$created" in *"$SHARE/applications"*)
        ls "$SHARE/applications"/*.desktop >/dev/null 2>&1 || rm -f "$SHARE/applications/mimeinfo.cache" ;;
    esac
    # Deepest first (a reverse sort puts a folder's children before it); non-empty ones stay.
    printf '%s\n' "$created" | LC_ALL=C sort -ru | while IFS= read -r dir; do
        [ -n "$dir" ] && rmdir "$dir" 2>/dev/null || true
    done
    echo "Seekwise removed (your library and settings are kept)."
}

if [ "${1:-}" = "--uninstall" ]; then
    uninstall
    exit 0
fi

# Note the folders this install creates (kept from an earlier install over which this one goes).
created=$(cat "$CREATED" 2>/dev/null || true)
for dir in "$(dirname "$BIN")" "$(dirname "$APP")" "$BIN" "$SHARE" "$SHARE/applications" "$SHARE/metainfo" "$SHARE/icons" \
           "$SHARE/icons/hicolor" "$HERE"/share/icons/hicolor/*/; do
    case "$dir" in "$HERE"/*) dir="$SHARE/icons/hicolor/$(basename "$dir")"
                              [ -d "$dir/apps" ] || created="$created
$dir/apps" ;; esac
    [ -d "$dir" ] || created="$created
$dir"
done
rm -rf "$APP"
mkdir -p "$APP" "$BIN" "$SHARE/applications" "$SHARE/metainfo"
cp -R "$HERE/seekwise/." "$APP/"
printf '%s\n' "$created" | sed '/^$/d' > "$CREATED"
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
