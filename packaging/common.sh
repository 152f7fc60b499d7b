# Helpers shared by the packaging scripts (sourced, not run).

# require_python SCRIPT PYTHON: stop with a readable message unless PYTHON is Python 3.11 or newer.
require_python() {
    if ! command -v "$2" >/dev/null 2>&1; then
        echo "$1: $2 not found; install Python 3.11 or newer (or set PYTHON=/path/to/python3)." >&2
        exit 1
    fi
    if ! "$2" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "$1: banknote_guard needs Python 3.11 or newer; $2 is $("$2" -V 2>&1)." >&2
        exit 1
    fi
}

# install_icons ICONS HICOLOR: the application icon in every size (ICONS/banknote_guard_<size>.png and
# banknote_guard.svg) into a freedesktop.org icon theme folder as HICOLOR/<size>x<size>/apps/banknote-guard.png.
install_icons() {
    local png size
    for png in "$1"/banknote_guard_*.png; do
        size=$(basename "$png" .png)
        size=${size##*_}
        mkdir -p "$2/${size}x${size}/apps"
        cp "$png" "$2/${size}x${size}/apps/banknote-guard.png"
    done
    mkdir -p "$2/scalable/apps"
    cp "$1/banknote_guard.svg" "$2/scalable/apps/banknote-guard.svg"
}

# ensure_venv SCRIPT PYTHON ROOT VENV EXTRAS [fresh]: a virtual environment VENV with banknote_guard from
# ROOT installed (editable) with EXTRAS, set up on the first run and again only when pyproject.toml
# changes; with "fresh" it is then made from scratch (no package the install no longer lists remains).
ensure_venv() {
    local stamp
    stamp="$4/.banknote-guard-$(cksum < "$3/pyproject.toml" | cut -d' ' -f1)"
    [ -f "$stamp" ] && return 0
    echo "$1: setting up $4 (first run: a few minutes) ..." >&2
    if [ "${6:-}" = fresh ]; then
        rm -rf "$4"
    fi
    [ -x "$4/bin/python" ] || "$2" -m venv "$4"
    "$4/bin/python" -m pip install --quiet --upgrade pip
    "$4/bin/python" -m pip install --quiet -e "$3[$5]"
    rm -f "$4"/.banknote-guard-*
    touch "$stamp"
}
