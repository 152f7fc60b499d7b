#!/usr/bin/env bash
# Build the frozen station bundle for this platform: a folder that runs without Python or torch.
#
#   bash packaging/build_bundle.sh          # -> dist/banknote-guard/banknote-guard (and banknote-guard-gui)
#
# Steps: (1) a build environment with the *station* install only (pip install -e '.[bundle]': no torch;
# the script checks that torch is really absent), created once in .venv-bundle and made again only
# when pyproject.toml changes; (2) PyInstaller with packaging/banknote_guard.spec (one folder, torch,
# CUDA and the rest of the training stack excluded, unused Qt plugins and libraries left out, demo
# model, sample notes, icons and fonts inside);
# (3) banknote-guard-gui beside banknote-guard (Linux, macOS), symbol tables stripped where that is
# safe, a check that the bundle starts (--version), an archive to hand out
# (dist/banknote-guard-<version>-<os>-<arch>.tar.gz) and a report of the sizes.
#
# Environment: PYTHON (default python3, >= 3.11), BANKNOTE_GUARD_BUNDLE_VENV (build environment,
# default .venv-bundle), BANKNOTE_GUARD_DIST (output folder, default dist), BANKNOTE_GUARD_BUILD_DIR
# (PyInstaller's work folder, default build/bundle).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${BANKNOTE_GUARD_BUNDLE_VENV:-$root/.venv-bundle}
dist=${BANKNOTE_GUARD_DIST:-$root/dist}
work=${BANKNOTE_GUARD_BUILD_DIR:-$root/build/bundle}
python=${PYTHON:-python3}

# shellcheck source=packaging/common.sh
. "$root/packaging/common.sh"
require_python build_bundle.sh "$python"

# (1) the build environment: the station's dependencies and PyInstaller, nothing of the training stack
# (made from scratch when pyproject.toml changes: a package the station no longer needs must not linger)
ensure_venv build_bundle.sh "$python" "$root" "$venv" bundle fresh
if "$venv/bin/python" -c 'import torch' >/dev/null 2>&1; then
    echo "build_bundle.sh: torch is installed in $venv; the station bundle must be built without it" \
         "(remove $venv and run again)." >&2
    exit 1
fi

# (2) PyInstaller
echo "build_bundle.sh: building the bundle into $dist/banknote-guard ..." >&2
start=$(date +%s)
"$venv/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" "$root/packaging/banknote_guard.spec"

# (3) finish: the GUI program's name on Linux, symbols stripped where that is safe, an archive
bundle="$dist/banknote-guard"
if [ ! -e "$bundle/banknote-guard-gui" ]; then
    ln -s banknote-guard "$bundle/banknote-guard-gui"  # no arguments: the desktop application
fi
strip_safe() {
    # Strip the symbol tables of the libraries that still carry them (the Python library, some extension
    # modules), but never a file auditwheel/patchelf rewrote (in a <package>.libs/ folder, or with an
    # $ORIGIN run path): strip breaks those ("ELF load command address/offset not page-aligned").
    command -v strip >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1 || return 0
    local f saved=0 before
    while IFS= read -r -d '' f; do
        case "$f" in */*.libs/*) continue ;; esac
        readelf -S "$f" 2>/dev/null | grep -q '\.symtab' || continue
        readelf -d "$f" 2>/dev/null | grep -Eq '(RPATH|RUNPATH).*ORIGIN' && continue
        before=$(stat -c %s "$f")
        strip --strip-unneeded "$f" 2>/dev/null || continue
        saved=$((saved + before - $(stat -c %s "$f")))
    done < <(find "$bundle/_internal" -type f -name '*.so*' -print0)
    echo "build_bundle.sh: stripped symbol tables: $((saved / 1048576)) MB saved." >&2
}
case "$(uname -s)" in Linux) strip_safe ;; esac

version=$("$bundle/banknote-guard" --version)
size=$(du -sm "$bundle" | cut -f1)
archive="$dist/banknote-guard-${version##* }-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m).tar.gz"
tar -C "$dist" -czf "$archive" banknote-guard
end=$(date +%s)
echo "build_bundle.sh: built $bundle in $((end - start)) s: $version, ${size} MB" \
     "($(du -m "$archive" | cut -f1) MB as $(basename "$archive"))." >&2
echo "  run it:   $bundle/banknote-guard            (desktop application)" >&2
echo "            $bundle/banknote-guard verify $bundle/_internal/assets/demo_model.bgm NOTES..." >&2
