#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The Tessera appliance image (README "Appliance image"): Debian 12 with the Tessera .debs
# installed by apt, tessd enabled with the package's /etc/tessera/tessd.json, a serial
# console, extlinux, hugepages on the kernel command line; written to a compressed qcow2.
#
#   image/build.sh OUT.qcow2 tessera_*.deb...
#
# Environment: TESS_IMAGE_CACHE (apt's downloads, kept between builds; default
# /var/cache/tessera-image), TESS_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# TESS_IMAGE_SIZE (the disk, default 4G), TESS_IMAGE_HUGEPAGES (2 MiB pages reserved at
# boot, default 320), TESS_IMAGE_SSH_KEY (a public key file for root's authorized_keys).
# Needs root, loop devices, mmdebstrap, extlinux, sfdisk and qemu-img (tests/env/deps.sh).
set -euo pipefail

usage() { echo "usage: $0 OUT.qcow2 PACKAGE.deb..." >&2; exit 2; }
[ $# -ge 2 ] || usage
out=$1
shift
debs=()
for d in "$@"; do
	case "$d" in *-dbgsym_*) continue ;; esac # debug symbols stay out of the appliance
	[ -f "$d" ] || { echo "image: $d: no such .deb (make deb builds them)" >&2; exit 1; }
	debs+=("$(realpath "$d")")
done
[ "$(id -u)" = 0 ] || { echo "image: needs root (loop devices, mounts)" >&2; exit 1; }
for t in mmdebstrap extlinux sfdisk losetup mkfs.ext4 qemu-img; do
	command -v $t >/dev/null || { echo "image: no $t (make deps installs it)" >&2; exit 1; }
done

here=$(dirname "$(realpath "$0")")
cache=${TESS_IMAGE_CACHE:-/var/cache/tessera-image}
mirror=${TESS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
size=${TESS_IMAGE_SIZE:-4G}
hugepages=${TESS_IMAGE_HUGEPAGES:-320}
mbr=/usr/lib/syslinux/mbr/mbr.bin
[ -f $mbr ] || { echo "image: no $mbr (syslinux-common)" >&2; exit 1; }

# What the appliance holds besides Tessera and what apt pulls for it (no Recommends).
# dpdk: dpdk-devbind.py and dpdk-hugepages.py for binding NICs; systemd-resolved for the
# DNS networkd learns by DHCP on a management NIC.
packages=systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,zstd,iproute2,procps,
packages+=less,nano,openssh-server,dpdk,pciutils,ca-certificates

mkdir -p "$cache/archives" "$(dirname "$out")"
work=$(mktemp -d /var/tmp/tessera-image.XXXXXX)
loop=""
mnt=$work/root

# Every exit, failed or not, unmounts and detaches what was set up here.
cleanup() {
	set +e
	if mountpoint -q "$mnt"; then
		umount -R "$mnt" || umount -l -R "$mnt"
	fi
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
raw=$work/disk.raw
truncate -s "$size" "$raw"
# One bootable Linux partition from 1 MiB on; extlinux's MBR code boots it.
echo 'start=2048, type=83, bootable' | sfdisk -q --label dos "$raw"
loop=$(losetup -f --show -P "$raw")
part=${loop}p1
# Without udev the kernel's partition scan may leave no node: partx adds it.
[ -b "$part" ] || partx -a "$loop" 2>/dev/null || true
for _ in $(seq 50); do [ -b "$part" ] && break; sleep 0.1; done
[ -b "$part" ] || { echo "image: $part did not appear" >&2; exit 1; }
# No 64bit feature: extlinux reads ext4 without it for sure; the disk is small.
mkfs.ext4 -q -L tessera-root -O ^64bit "$part"
uuid=$(blkid -s UUID -o value "$part")
mkdir -p "$mnt"
mount "$part" "$mnt"

# systemd-resolved is installed last, with Tessera: it takes /etc/resolv.conf, which the
# chroot needs until then to download.
# Tessera's .debs go in as a user installs them (apt install ./tessera_*.deb), in the
# chroot, after the base system. apt's downloads live in $cache across builds: copied in
# before, copied out after (mmdebstrap's documented cache recipe).
mkdir -p "$work/debs"
cp "${debs[@]}" "$work/debs/"
mmdebstrap --variant=minbase --include="$packages" --dpkgopt=force-unsafe-io \
	--skip=download/empty --skip=essential/unlink \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
	--setup-hook="sync-in '$cache/archives' /var/cache/apt/archives/" \
	--customize-hook="copy-in '$work/debs' /tmp" \
	--customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d" && chmod +x "$1/usr/sbin/policy-rc.d"' \
	--customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive sh -c "apt-get install -y -q --no-install-recommends /tmp/debs/*.deb systemd-resolved"' \
	--customize-hook='rm -rf "$1/tmp/debs" "$1/usr/sbin/policy-rc.d"' \
	--customize-hook="sync-out /var/cache/apt/archives '$cache/archives'" \
	--customize-hook="'$here/customize.sh' \"\$1\" '$uuid' '$hugepages' '${TESS_IMAGE_SSH_KEY:-}'" \
	bookworm "$mnt" "$mirror"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$mnt/etc/resolv.conf"
rm -f "$cache"/archives/tessera*.deb "$cache"/archives/lock
rm -rf "$cache/archives/partial"

extlinux --install "$mnt/boot/extlinux" >/dev/null
dd if=$mbr of="$loop" bs=440 count=1 conv=notrunc status=none
umount "$mnt"
losetup -d "$loop"
loop=""

qemu-img convert -c -O qcow2 "$raw" "$out.tmp"
mv "$out.tmp" "$out"
echo "image: $out $(du -h --apparent-size "$out" | cut -f1) (disk $size) in $(($(date +%s) - t0)) s"
