#!/bin/sh
# Installs the Debian packages Tessera needs that are missing. Run as root.
# `deps.sh bench` adds the packages only the benchmarks use (their peers and generators).
set -eu

PKGS="gcc libc6-dev make meson ninja-build pkg-config clang clang-format
libdpdk-dev dpdk dpdk-dev libnl-3-dev libnl-route-3-dev libjansson-dev libvirt-dev
libsqlite3-dev libmicrohttpd-dev libargon2-dev libgnutls28-dev libcurl4-gnutls-dev gnutls-bin
libcmocka-dev openssl
python3 python3-pytest python3-scapy python3-selenium python3-websocket chromium chromium-driver novnc nginx-light tcpdump iproute2 iputils-ping traceroute procps qemu-utils
frr libvirt-daemon libvirt-clients libvirt-daemon-driver-qemu libvirt-daemon-system
qemu-system-x86 busybox-static strace systemd
udhcpc dnsmasq-base bind9-dnsutils iperf3 nftables netcat-openbsd openssh-client openssh-server
man-db groff-base mandoc bash-completion debhelper dpkg-dev debootstrap
mmdebstrap extlinux syslinux-common fdisk kmod"

# liblua5.3-dev, libpcap-dev, libnuma-dev: what build-pktgen (below) builds pktgen with;
# installed here, after apt-get update, rather than by it without one.
BENCH_PKGS="openvswitch-switch-dpdk kea-admin dnsperf ethtool dpdk-doc
liblua5.3-dev libpcap-dev libnuma-dev"
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS $BENCH_PKGS"
fi

# pktgen (the *-tenants benchmarks' generator) has no Debian package: the project's
# build script (../shared/tools/build-pktgen, next to the repository) builds it into
# /opt/pktgen (TESS_PKTGEN elsewhere), once.
pktgen() {
	[ "${1:-}" = bench ] || return 0
	bin=${TESS_PKTGEN:-/opt/pktgen/bin/pktgen}
	[ -x "$bin" ] && return 0
	script=$(cd "$(dirname "$0")/../.." && pwd)/../shared/tools/build-pktgen
	if [ ! -x "$script" ]; then
		echo "deps: no pktgen at $bin and no $script to build it: the *-tenants benchmarks need it" >&2
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "deps: no pktgen at $bin; run as root (or: $script)" >&2
		return 1
	fi
	echo "deps: building pktgen with $script (a few minutes)"
	"$script" "$(dirname "$(dirname "$bin")")"
}

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages present"
	pktgen "${1:-}"
	exit
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root (or: apt-get install$missing)" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "deps: missing packages:$missing, and apt-get is not available (Debian 12 expected)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Packages install without starting their services (FRR's daemons would run in the root
# namespace; the tests start their own): a policy-rc.d of ours while apt runs, if none.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "deps: apt-get install$missing failed" >&2; exit 1; }
echo "deps: installed$missing"
pktgen "${1:-}"
