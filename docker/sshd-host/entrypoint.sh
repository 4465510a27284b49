#!/bin/sh
# Authorises the engine's key (AUTHORIZED_KEY) and runs sshd in the foreground.
set -eu
if [ -n "${AUTHORIZED_KEY:-}" ]; then
  printf '%s\n' "$AUTHORIZED_KEY" > /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
fi
ssh-keygen -A
exec /usr/sbin/sshd -D -e
