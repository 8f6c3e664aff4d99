#!/usr/bin/env bash
# Wrap dist/Seekwise.app (from packaging/seekwise.spec on macOS) in a compressed disk image with
# an /Applications link to drag it onto:  packaging/macos/make_dmg.sh  ->  dist/Seekwise-<ver>-macos-<arch>.dmg
# SEEKWISE_CODESIGN_IDENTITY="Developer ID Application: ..." signs the app first (hardened runtime);
# without it the app keeps PyInstaller's ad-hoc signature, which Gatekeeper shows as unidentified.
set -euo pipefail
cd "$(dirname "$0")/../.."
APP=dist/Seekwise.app
VERSION=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$APP/Contents/Info.plist")
DMG=dist/Seekwise-$VERSION-macos-$(uname -m).dmg
STAGE=build/dmg

if [ -n "${SEEKWISE_CODESIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$SEEKWISE_CODESIGN_IDENTITY" "$APP"
fi
codesign --verify --deep "$APP"   # PyInstaller signs ad hoc at least: Apple silicon runs nothing unsigned

rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "Seekwise $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
hdiutil verify "$DMG"
echo "$DMG"
