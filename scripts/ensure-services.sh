#!/usr/bin/env bash
# Makes sure what the test suite talks to is there: a Redis for the queue tests and Debian's
# Chromium for the browser tests. Installs from Debian's packages when missing (needs root).
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "ensure-services: need root to install $*" >&2; return 1; fi
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/invoicing-redis.log
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || { echo "ensure-services: Redis did not start" >&2; exit 1; }
fi

if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
echo "ensure-services: redis ok, chromium $([ -x /usr/bin/chromium ] && echo ok || echo missing)"
