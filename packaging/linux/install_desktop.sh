#!/usr/bin/env bash
# Add the station bundle to the desktop menu of the current user (Linux, freedesktop.org desktops).
#
#   bash packaging/linux/install_desktop.sh [BUNDLE]      # BUNDLE: the built dist/banknote-guard folder
#   bash packaging/linux/install_desktop.sh --uninstall
#
# Writes ~/.local/share/applications/banknote-guard.desktop (Exec = the bundle's banknote-guard-gui) and
# the icon in every size to ~/.local/share/icons/hicolor/<size>x<size>/apps/banknote-guard.png (and the
# SVG to .../scalable/apps/), honouring $XDG_DATA_HOME. Nothing is copied out of the bundle folder, so
# moving the folder means running this again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
apps="$data/applications"
icons="$data/icons/hicolor"

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$apps/banknote-guard.desktop"
    rm -f "$icons"/*/apps/banknote-guard.png "$icons/scalable/apps/banknote-guard.svg"
    echo "install_desktop.sh: removed Banknote Guard from the desktop menu."
    exit 0
fi

bundle=$(cd "${1:-$root/dist/banknote-guard}" && pwd)
gui="$bundle/banknote-guard-gui"
if [ ! -x "$gui" ]; then
    echo "install_desktop.sh: $gui not found; build the bundle first (bash packaging/build_bundle.sh)." >&2
    exit 1
fi
icon_src="$bundle/_internal/assets/icons"
[ -d "$icon_src" ] || icon_src="$root/assets/icons"

mkdir -p "$apps"
# Exec and TryExec get the absolute path of the bundle (quoted: the path may hold spaces).
sed -e "s|^Exec=.*|Exec=\"$gui\"|" -e "s|^TryExec=.*|TryExec=$gui|" "$here/banknote-guard.desktop" \
    > "$apps/banknote-guard.desktop"
# shellcheck source=packaging/common.sh
. "$root/packaging/common.sh"
install_icons "$icon_src" "$icons"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" || true
echo "install_desktop.sh: Banknote Guard is in the desktop menu ($apps/banknote-guard.desktop -> $gui)."
