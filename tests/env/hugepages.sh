#!/bin/sh
# Makes sure at least $1 MiB of 2 MiB hugepages are free and hugetlbfs is mounted.
set -eu

want_mb=${1:-1024}
dir=/sys/kernel/mm/hugepages/hugepages-2048kB
want=$((want_mb / 2))

if [ ! -d "$dir" ]; then
	echo "hugepages: this kernel has no 2 MiB hugepages ($dir missing); tessd will run with --no-huge" >&2
	exit 1
fi
free=$(cat "$dir/free_hugepages")
if [ "$free" -lt "$want" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "hugepages: $free free 2 MiB pages, need $want; run as root" >&2
		exit 1
	fi
	total=$(cat "$dir/nr_hugepages")
	target=$((total + want - free))
	echo "hugepages: reserving $target pages of 2 MiB (had $total, $free free)"
	echo "$target" >"$dir/nr_hugepages"
	free=$(cat "$dir/free_hugepages")
	if [ "$free" -lt "$want" ]; then
		echo "hugepages: the kernel gave only $free free pages of the $want needed (memory fragmented?)" >&2
		exit 1
	fi
fi
if ! grep -q ' hugetlbfs ' /proc/mounts; then
	echo "hugepages: mounting hugetlbfs on /dev/hugepages"
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages ||
		{ echo "hugepages: cannot mount hugetlbfs" >&2; exit 1; }
fi
echo "hugepages: $free x 2 MiB free"
