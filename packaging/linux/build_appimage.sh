#!/usr/bin/env bash
# Make an AppImage of the station bundle (Linux): one file that runs on most distributions.
#
#   bash packaging/build_bundle.sh                 # first: dist/banknote-guard/
#   bash packaging/linux/build_appimage.sh         # -> build/AppDir, and dist/Banknote_Guard-<version>-<arch>.AppImage
#
# The AppDir follows the AppImage layout: AppRun (starts the desktop application, or the command line
# when given arguments), banknote-guard.desktop and banknote-guard.png at its top, the bundle in
# usr/lib/banknote-guard/, the desktop entry and icons under usr/share/. appimagetool
# (https://github.com/AppImage/appimagetool) packs it; it cannot be downloaded by this script, so when
# it is not on PATH the script stops after the AppDir and says so (copy appimagetool to a machine
# that has it, or run `appimagetool build/AppDir` there).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bundle=${1:-$root/dist/banknote-guard}
appdir=${BANKNOTE_GUARD_APPDIR:-$root/build/AppDir}
dist=${BANKNOTE_GUARD_DIST:-$root/dist}

if [ ! -x "$bundle/banknote-guard" ]; then
    echo "build_appimage.sh: $bundle/banknote-guard not found; build the bundle first (bash packaging/build_bundle.sh)." >&2
    exit 1
fi
version=$("$bundle/banknote-guard" --version | awk '{print $NF}')
arch=$(uname -m)

rm -rf "$appdir"
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" "$appdir/usr/bin"
cp -a "$bundle" "$appdir/usr/lib/banknote-guard"
ln -s ../lib/banknote-guard/banknote-guard "$appdir/usr/bin/banknote-guard"
ln -s ../lib/banknote-guard/banknote-guard-gui "$appdir/usr/bin/banknote-guard-gui"

cp "$here/banknote-guard.desktop" "$appdir/banknote-guard.desktop"
cp "$here/banknote-guard.desktop" "$appdir/usr/share/applications/banknote-guard.desktop"
icons="$root/assets/icons"
# shellcheck source=packaging/common.sh
. "$root/packaging/common.sh"
install_icons "$icons" "$appdir/usr/share/icons/hicolor"
cp "$icons/banknote_guard_256.png" "$appdir/banknote-guard.png"
ln -s banknote-guard.png "$appdir/.DirIcon"

cat > "$appdir/AppRun" <<'APPRUN'
#!/bin/sh
# The AppImage's entry: no arguments open the desktop application; arguments go to the command line.
here=$(dirname "$(readlink -f "$0")")
if [ $# -eq 0 ]; then
    exec "$here/usr/lib/banknote-guard/banknote-guard-gui"
fi
exec "$here/usr/lib/banknote-guard/banknote-guard" "$@"
APPRUN
chmod +x "$appdir/AppRun"
echo "build_appimage.sh: AppDir ready in $appdir ($(du -sm "$appdir" | cut -f1) MB)."

tool=$(command -v appimagetool || command -v appimagetool-x86_64.AppImage || true)
if [ -z "$tool" ]; then
    echo "build_appimage.sh: appimagetool is not on PATH, so no AppImage was made; run 'appimagetool $appdir' on a machine that has it." >&2
    exit 0
fi
out="$dist/Banknote_Guard-$version-$arch.AppImage"
ARCH=$arch "$tool" "$appdir" "$out"
echo "build_appimage.sh: $out ($(du -sm "$out" | cut -f1) MB)."
