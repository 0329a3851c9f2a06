#!/bin/sh
# Runs a command with a private, empty /dev/shm (its own mount namespace), so
# test runs that share a machine do not see each other's blocks:
#   sh scripts/isolated.sh pnpm test
# Needs root or unprivileged user namespaces (then: unshare -rm).
exec unshare -m sh -c 'mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec "$@"' sh "$@"
