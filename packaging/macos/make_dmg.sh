#!/usr/bin/env bash
# Wrap dist/Seekwise.app (from packaging/seekwise.spec on macOS) in a compressed disk image with
# an /Applications link to drag it onto:  packaging/macos/make_dmg.sh  ->  dist/Seekwise-<ver>-macos-<arch>.dmg
# SEEKWISE_CODESIGN_IDENTITY="Developer ID Application: ..." signs the app (hardened runtime) and the
# DMG. Signing alone does not satisfy Gatekeeper on a downloaded copy: Apple must also notarise it.
# With SEEKWISE_CODESIGN_IDENTITY and either SEEKWISE_NOTARY_PROFILE (a `xcrun notarytool
# store-credentials` keychain profile) or SEEKWISE_NOTARY_APPLE_ID + SEEKWISE_NOTARY_TEAM_ID +
# SEEKWISE_NOTARY_PASSWORD (an app-specific password), the DMG is submitted to the notary service,
# waited for, and the ticket stapled to it. Without them the app keeps PyInstaller's ad-hoc
# signature, which Gatekeeper shows as from an unidentified developer (right-click > Open).
set -euo pipefail
cd "$(dirname "$0")/../.."
APP=dist/Seekwise.app
VERSION=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$APP/Contents/Info.plist")
DMG=dist/Seekwise-$VERSION-macos-$(uname -m).dmg
STAGE=build/dmg
IDENTITY=${SEEKWISE_CODESIGN_IDENTITY:-}

# No bash arrays: macOS's bash 3.2 calls an empty one unbound under set -u.
notarise() {
    if [ -n "${SEEKWISE_NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$1" --keychain-profile "$SEEKWISE_NOTARY_PROFILE" --wait
    else
        xcrun notarytool submit "$1" --apple-id "$SEEKWISE_NOTARY_APPLE_ID" --team-id "$SEEKWISE_NOTARY_TEAM_ID" \
            --password "$SEEKWISE_NOTARY_PASSWORD" --wait
    fi
}
NOTARISE=
if [ -n "${SEEKWISE_NOTARY_PROFILE:-}" ]; then
    NOTARISE=1
elif [ -n "${SEEKWISE_NOTARY_APPLE_ID:-}" ]; then
    : "${SEEKWISE_NOTARY_TEAM_ID:?needs SEEKWISE_NOTARY_TEAM_ID}" "${SEEKWISE_NOTARY_PASSWORD:?needs SEEKWISE_NOTARY_PASSWORD}"
    NOTARISE=1
fi
if [ -n "$NOTARISE" ] && [ -z "$IDENTITY" ]; then
    echo "make_dmg.sh: notarisation needs a Developer ID signature: set SEEKWISE_CODESIGN_IDENTITY" >&2
    exit 1
fi

if [ -n "$IDENTITY" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$IDENTITY" "$APP"
fi
codesign --verify --deep "$APP"   # PyInstaller signs ad hoc at least: Apple silicon runs nothing unsigned

rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
# hdiutil create fails now and then with "Resource busy" (a volume still being released, Spotlight
# looking at the stage): try again a few times before giving up.
for attempt in 1 2 3 4 5; do
    if out=$(hdiutil create -volname "Seekwise $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG" 2>&1); then
        echo "$out"
        break
    fi
    echo "$out" >&2
    case "$out" in
        *"Resource busy"*) if [ "$attempt" -lt 5 ]; then sleep $((attempt * 5)); continue; fi ;;
    esac
    exit 1
done
hdiutil verify "$DMG"

if [ -n "$IDENTITY" ]; then
    codesign --force --timestamp --sign "$IDENTITY" "$DMG"
fi
if [ -n "$NOTARISE" ]; then
    notarise "$DMG"                # a rejected submission leaves no ticket: stapler fails below
    xcrun stapler staple "$DMG"
    xcrun stapler validate "$DMG"
fi
echo "$DMG"
