#!/bin/sh
# Everything Ardoise needs from Debian 12 on the control machine, installed by the project itself
# (called by `make demo` and `make test`; idempotent). The lab's own packages are in installer-labo.sh.
set -eu
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
    echo "installer-dependances : lancez « make » en root (sudo -i) : le labo crée des espaces de noms réseau." >&2
    exit 2
fi
PAQUETS="python3 python3-venv python3-dev gcc git make libyaml-dev postgresql libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils zbar-tools chromium chromium-driver hostapd nmap iperf3"
MANQUANTS=""
for p in $PAQUETS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MANQUANTS="$MANQUANTS $p"
done
if [ -n "$MANQUANTS" ]; then
    echo "installer-dependances : installation de :$MANQUANTS" >&2
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $MANQUANTS
fi
exec sh "$(dirname "$0")/installer-labo.sh"
