#!/usr/bin/env bash
# Debian packages the test suite and the benchmark need, installed only when missing (needs root or sudo):
#   etcd-server, etcd-client  the harness control (test/harness-control) and the benchmark's peer
#   strace, eatmydata         the fsync audit and its blind-audit control (test/fsync-audit)
#   gcc                       builds the fsync EIO shim (test/native/fsync-eio.c, test/fsync-eio)
set -euo pipefail
missing=()
command -v etcd >/dev/null || missing+=(etcd-server etcd-client)
command -v strace >/dev/null || missing+=(strace)
command -v eatmydata >/dev/null || missing+=(eatmydata)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}") >/dev/null
