# Sourced by scripts/demo.sh and scripts/test.sh: makes .venv with the project installed,
# and installs Debian packages the caller names when they are missing (as root, or with sudo).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Jinqiao needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi

apt_install() {  # apt_install PACKAGE... : install what is missing, once
  [ "$#" -gt 0 ] || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: $*" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

have_mosquitto() { command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; }
have_postgres() { command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_chromium() { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }
have_cjk_font() { [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || compgen -G "/usr/share/fonts/opentype/noto/NotoSansCJK*" >/dev/null; }

ensure_venv() {  # ensure_venv [EXTRAS] : the project in .venv (with EXTRAS, e.g. test), reinstalled when pyproject.toml changes
  local extras="${1:-}" target="." stamp=".venv/.installed-${1:-runtime}"
  [ -z "$extras" ] || target=".[${extras}]"  # pip refuses ".[]"
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$target"
    touch "$stamp"
  fi
}
