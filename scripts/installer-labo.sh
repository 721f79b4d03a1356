#!/bin/sh
# Install everything the virtual school lab needs on the control machine (Debian 12).
# Idempotent: running it twice changes nothing. Daemons the packages would start in the
# root namespace (squid, dnsmasq, e2guardian, apt-cacher-ng, clamav) are stopped and
# disabled: the lab starts its own instances with explicit pid and log paths.
set -eu

export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
    echo "installer-labo : ce script doit être lancé en root." >&2
    exit 2
fi

PAQUETS="debootstrap systemd-container squid e2guardian dnsmasq apt-cacher-ng nftables iptables \
busybox zstd iproute2 clamav openssh-client curl isc-dhcp-client openssl ca-certificates \
python3 util-linux procps psmisc"

MANQUANTS=""
for p in $PAQUETS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        MANQUANTS="$MANQUANTS $p"
    fi
done

if [ -n "$MANQUANTS" ]; then
    echo "installer-labo : installation de :$MANQUANTS" >&2
    # Keep freshly installed daemons from starting in the root namespace.
    POLICY=/usr/sbin/policy-rc.d
    POLICY_AJOUTEE=0
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$POLICY"
        chmod 0755 "$POLICY"
        POLICY_AJOUTEE=1
    fi
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $MANQUANTS
    if [ "$POLICY_AJOUTEE" -eq 1 ]; then
        rm -f "$POLICY"
    fi
else
    echo "installer-labo : tous les paquets sont déjà installés." >&2
fi

# Daemons that would collide with the lab's own instances (ports 53, 67, 3128, 3142, 8080...).
# (The machine's own ssh server is left alone: lab PCs run their sshd in their own namespaces.)
for svc in squid e2guardian dnsmasq apt-cacher-ng clamav-daemon clamav-freshclam; do
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    else
        if [ -x "/etc/init.d/$svc" ]; then
            "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
        fi
        update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
done

# Root-namespace daemons started by package scripts without an init system (pid files).
for pidfile in /run/squid.pid /run/e2guardian.pid /run/dnsmasq/dnsmasq.pid \
    /run/apt-cacher-ng/pid /run/clamav/clamd.pid /run/clamav/freshclam.pid; do
    if [ -s "$pidfile" ]; then
        pid=$(cat "$pidfile")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
done

echo "installer-labo : prêt." >&2
