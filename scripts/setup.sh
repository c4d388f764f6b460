#!/usr/bin/env bash
# Installs and starts what the project needs on a fresh Debian machine (run as root): Debian's Redis
# server and tools, Chromium for the browser tests, Docker with Compose and busybox (the Docker flavor
# builds its Redis image locally from the host's binaries), qemu and debootstrap (the power-loss VM
# and the systemd container), strace (the stalled-disk crash drill), Prometheus with promtool and
# redis_exporter (the alerting rules' tests and drill; their packaged services stopped),
# then the npm dependencies (Node 24 comes with them), the other engines of the matrix (npm run
# engines: Redis 6.0, 8.0 and 8.6, Valkey 8.1 and 9.1, and Compose v2 as the Docker CLI plugin, into
# .cache/engines), and last the VM image (npm run vm-image) and the image of Debian's packaged Redis
# under systemd (npm run systemd-image). Safe to run again: it installs only what
# is missing and starts dockerd only if none runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-system-x86, debootstrap and e2fsprogs: the power-loss VM (scripts/harness/vm), its image and its disks.
# openssl: the self-signed certificate of the offsite drill's S3 store (scripts/harness/offsite-store.ts).
# prometheus (with promtool) and prometheus-redis-exporter: the alerting rules' tests and live drill.
# iproute2: the network namespaces of the two-host drills (a lost host, a partition during failover).
packages=(redis-server redis-tools chromium docker.io docker-compose busybox-static tmux strace qemu-system-x86 debootstrap e2fsprogs openssl prometheus prometheus-redis-exporter iproute2)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The prometheus packages enable a system Prometheus and exporter (on :9090 and :9121); the project
  # runs its own disposable ones (scripts/harness/prometheus), so the packaged services are stopped
  # and disabled: with systemd by their units, elsewhere by the pid files of their init scripts.
  for unit in prometheus prometheus-redis-exporter; do
    [[ " ${missing[*]} " == *" $unit "* ]] || continue
    if [ -d /run/systemd/system ]; then
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    elif [ -s "/run/prometheus/$unit.pid" ]; then
      kill "$(cat "/run/prometheus/$unit.pid")" 2>/dev/null || true
    fi
  done
fi
# Debian's redis-server package may start a system Redis; the project never uses it (every server here is disposable).

# A Docker daemon without the default bridge: containers get no network or their project's own, and
# are reached through docker exec only.
if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  nohup dockerd --bridge=none --iptables=false >/var/log/redis-playbook-dockerd.log 2>&1 &
  for _ in $(seq 1 150); do
    docker info >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/redis-playbook-dockerd.log" >&2; exit 1; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The engine matrix beside the host's Redis 7.0: Redis 6.0 (bullseye), Redis 8.0 and Valkey 8.1
# (trixie), Redis 8.6 (experimental) and Valkey 9.1 (sid), each with its own suite's libraries and
# loader, and Debian's docker-compose 2.x as the Docker CLI plugin; downloaded once into .cache/engines
# with a private apt config (the host's apt sources, lists and packages stay as they are). A complete
# cache is a no-op.
npm run --silent engines

# The power-loss VM's image (Debian bookworm's kernel and Redis 7.0, ~2 minutes once) into
# .cache/engines/vm; a complete image of the current recipe is a no-op.
npm run --silent vm-image
# Debian's packaged Redis under a real systemd, in a container (scripts/harness/systemd): the blocks about systemctl.
npm run --silent systemd-image

# Node 22 from the npm registry (the `node` package), for the installed CLI's tests on that LTS line
# (npm run test:package); Node 20 is the machine's, 24 the devDependency.
if [ ! -x .cache/node-22/node_modules/node/bin/node ]; then
  echo "setup: fetching Node 22 into .cache/node-22"
  npm install --silent --no-audit --no-fund --no-save --prefix .cache/node-22 node@22 >/dev/null
fi
