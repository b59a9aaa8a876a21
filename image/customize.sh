#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# mmdebstrap's customize hook for the appliance (image/build.sh): runs on the build host
# with the image's root directory as $1, after apt installed everything.
#   customize.sh ROOT UUID HUGEPAGES [SSH_PUBLIC_KEY_FILE]
set -euo pipefail
root=$1 uuid=$2 hugepages=$3 sshkey=${4:-}
here=$(dirname "$(realpath "$0")")
inroot() { chroot "$root" "$@"; }

echo tessera >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\ttessera\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$root/etc/hosts"
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://security.debian.org/debian-security bookworm-security main
SOURCES

# extlinux (installed on the disk by build.sh) boots /vmlinuz and /initrd.img, the links
# the kernel package keeps to the newest kernel, so an upgraded kernel boots unchanged.
for f in vmlinuz initrd.img; do
	[ -L "$root/$f" ] || { echo "image: no /$f link in the image" >&2; exit 1; }
done
mkdir -p "$root/boot/extlinux"
sed -e "s/@UUID@/$uuid/" -e "s/@HUGEPAGES@/$hugepages/" "$here/extlinux.conf.in" \
	>"$root/boot/extlinux/extlinux.conf"

# Root logs in on the consoles (serial and VGA) without a password, as on Debian's
# "nocloud" images; ssh refuses that (PermitEmptyPasswords no): set one with passwd, or
# build with TESS_IMAGE_SSH_KEY.
inroot passwd -d root >/dev/null
if [ -n "$sshkey" ]; then
	install -d -m 0700 "$root/root/.ssh"
	install -m 0600 "$sshkey" "$root/root/.ssh/authorized_keys"
fi
# Each appliance gets its own ssh host keys and machine id on its first boot.
rm -f "$root"/etc/ssh/ssh_host_*
install -D -m 0644 "$here/ssh-hostkeys.conf" "$root/etc/systemd/system/ssh.service.d/hostkeys.conf"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# A management NIC (any en*/eth* not given to tessd) takes an address by DHCP.
install -m 0644 "$here/dhcp.network" "$root/etc/systemd/network/80-dhcp.network"
inroot systemctl enable systemd-networkd systemd-resolved
# network-online (tessmgrd is ordered after it) means the management link, one of any: the
# data NICs are DPDK's and never come up for networkd.
install -D -m 0644 "$here/wait-online-any.conf" \
	"$root/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf"
inroot systemctl enable tessd
[ -L "$root/etc/systemd/system/multi-user.target.wants/tessd.service" ] ||
	{ echo "image: tessd is not enabled" >&2; exit 1; }
install -m 0644 "$here/README.appliance" "$root/root/README"

# apt's lists are fetched again with `apt update`; the image does not carry them.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
# mmdebstrap's build-time settings (unsafe io) are not the appliance's.
rm -f "$root"/etc/dpkg/dpkg.cfg.d/99mmdebstrap "$root"/etc/apt/apt.conf.d/99mmdebstrap
