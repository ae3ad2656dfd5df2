#!/usr/bin/env bash
# Host services the end-to-end tier's pipeline talks to, standing in for GitHub and Quay. All of
# them listen on the cluster bridge's address only (pods reach them there), never beyond:
#   10.213.0.1:5001  registry (CNCF distribution) with htpasswd auth: robots luban+release,
#                    luban+pr (push) and luban+node (the node's pulls), as Quay robot accounts
#   10.213.0.1:8418  git over HTTPS, token auth (git http-backend): app repos + the GitOps repo
#   10.213.0.1:2222  git over SSH (a private sshd, its own host key): the GitOps repo, deploy key
#   10.213.0.1:8443  fake GitHub statuses API over HTTPS (tests/support/fake_github.py), journal
#   10.213.0.1:3128  CONNECT proxy to pypi.org and files.pythonhosted.org only (builds' index)
#   10.213.0.1:8420  the offline CPython mirror (make python-mirror), read-only HTTP
#   10.213.0.1:8421  a private Python index over HTTPS with Basic auth (scripts/cluster/private_index.py)
# Usage: scripts/cluster/services.sh credentials|start|stop|status
#   credentials  create (once) the CA, keys, tokens and robot passwords; needs no bridge; prints
#                the env file describing them ($LUBAN_CACHE/cluster/services/services.env)
#   start        credentials + every service not yet running (idempotent; needs the bridge)
#   stop         stop what start started (by recorded PID); a second stop does nothing
# Secrets stay in $LUBAN_CACHE/cluster (0700); logs and PIDs in $LUBAN_CACHE/cluster/services.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

addr=$CLUSTER_NODE_IP
svc=$CLUSTER_CACHE/services
tls=$svc/tls
sec=$svc/secrets
reg=$CLUSTER_CACHE/registry-auth
gitroot=$CLUSTER_CACHE/git
sshdir=$svc/ssh
envfile=$svc/services.env
python=$(command -v python3)

credentials() {
  apt_install openssl apache2-utils git
  mkdir -p "$tls" "$sec" "$reg/data" "$gitroot" "$sshdir"
  chmod 700 "$svc" "$sec" "$reg" "$sshdir"
  if [ ! -f "$tls/ca.crt" ]; then
    say "creating the e2e services' CA and the certificate of $addr"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=luban-ci e2e CA" \
      -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$addr" -keyout "$tls/server.key" \
      -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$addr" >"$tls/ext.cnf"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
      -days 3650 -extfile "$tls/ext.cnf" -out "$tls/server.crt" 2>/dev/null
    chmod 600 "$tls/ca.key" "$tls/server.key"
  fi
  local name
  for name in git-read-token git-write-token status-token webhook-secret index-password; do
    [ -s "$sec/$name" ] || (umask 077 && openssl rand -hex 24 >"$sec/$name")
  done
  printf '%s read\n%s write\n' "$(cat "$sec/git-read-token")" "$(cat "$sec/git-write-token")" >"$sec/git-tokens"
  # Registry robots, named like Quay's (ORG+NAME); bcrypt as distribution's htpasswd requires.
  local robot
  : >"$reg/htpasswd.new"
  for robot in release pr node; do
    [ -s "$sec/robot-$robot" ] || (umask 077 && openssl rand -hex 20 >"$sec/robot-$robot")
    htpasswd -Bbn "luban+$robot" "$(cat "$sec/robot-$robot")" | head -1 >>"$reg/htpasswd.new"
    # The "Docker configuration" Quay offers for a robot: a dockerconfigjson for this registry.
    (umask 077 && printf '{"auths":{"%s:5001":{"auth":"%s","email":""}}}\n' "$addr" \
      "$(printf 'luban+%s:%s' "$robot" "$(cat "$sec/robot-$robot")" | base64 -w0)" >"$sec/robot-$robot.json")
  done
  if [ -f "$reg/htpasswd" ] && cmp -s <(cut -d: -f1 "$reg/htpasswd") <(cut -d: -f1 "$reg/htpasswd.new") \
      && all_passwords_match; then
    rm -f "$reg/htpasswd.new"
  else
    mv "$reg/htpasswd.new" "$reg/htpasswd"
  fi
  (umask 077 && printf 'REGISTRY_AUTH_HOST=%s:5001\nREGISTRY_AUTH_USER=%s\nREGISTRY_AUTH_PASSWORD=%s\n' \
    "$addr" "luban+node" "$(cat "$sec/robot-node")" >"$reg/node.env")
  # The node's containerd reads `NAME URL` lines from here (scripts/cluster/up.sh).
  grep -qs "^$addr:5001 " "$CLUSTER_CACHE/registries" || echo "$addr:5001 http://$addr:5001" >>"$CLUSTER_CACHE/registries"
  # SSH: the server's host key, the GitOps deploy key, and known_hosts as GitHub documents it.
  [ -f "$sshdir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C luban-e2e-host -f "$sshdir/host_ed25519"
  [ -f "$sec/gitops-deploy-key" ] || ssh-keygen -q -t ed25519 -N '' -C luban-e2e-gitops -f "$sec/gitops-deploy-key"
  printf '[%s]:2222 %s\n' "$addr" "$(cut -d' ' -f1,2 "$sshdir/host_ed25519.pub")" >"$sec/known_hosts"
  # Only the deploy key may log in, and only to run git on the repositories under $gitroot.
  printf 'command="%s %s",restrict %s\n' "$here/git-ssh-command.sh" "$gitroot" \
    "$(cat "$sec/gitops-deploy-key.pub")" >"$sshdir/authorized_keys"
  chmod 600 "$sshdir/authorized_keys"
  cat >"$envfile" <<EOF
# Written by scripts/cluster/services.sh: where the e2e services are and the files holding their secrets.
E2E_ADDR=$addr
E2E_REGISTRY=$addr:5001
E2E_GIT_HTTPS=https://$addr:8418
E2E_GIT_SSH=ssh://root@$addr:2222
E2E_GITHUB_API=https://$addr:8443
E2E_PROXY=http://$addr:3128
E2E_PYTHON_MIRROR=http://$addr:8420
E2E_PRIVATE_INDEX=https://$addr:8421/simple
E2E_PRIVATE_INDEX_USER=luban-e2e
E2E_GIT_ROOT=$gitroot
E2E_CA=$tls/ca.crt
E2E_SECRETS=$sec
E2E_GITHUB_JOURNAL=$svc/github-requests.jsonl
E2E_REGISTRY_DATA=$reg/data
EOF
  echo "$envfile"
}

# The stored bcrypt hashes still match the stored passwords (else the file is rewritten).
all_passwords_match() {
  local robot
  for robot in release pr node; do
    htpasswd -vb "$reg/htpasswd" "luban+$robot" "$(cat "$sec/robot-$robot")" >/dev/null 2>&1 || return 1
  done
}

running() { [ -f "$svc/$1.pid" ] && kill -0 "$(cat "$svc/$1.pid")" 2>/dev/null; }

# launch NAME PORT COMMAND...: in its own session (outlives make and timeouts), PID recorded.
launch() {
  local name=$1 port=$2; shift 2
  if running "$name"; then return 0; fi
  if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then
    die "$addr:$port is taken by a process services.sh did not start ($name); stop it first"
  fi
  say "starting $name on $addr:$port (log: $svc/$name.log)"
  setsid "$@" >>"$svc/$name.log" 2>&1 </dev/null &
  echo $! >"$svc/$name.pid"
  local _
  for _ in $(seq 1 40); do
    (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null && return 0
    running "$name" || break
    sleep 0.25
  done
  die "$name did not start listening on $addr:$port; see $svc/$name.log"
}

start() {
  # Read whole, then matched: `ip ... | grep -q` under pipefail fails when grep stops reading early.
  [[ $(ip -4 addr show dev "$CLUSTER_BRIDGE" 2>/dev/null) == *"inet $addr/"* ]] \
    || die "the cluster bridge $CLUSTER_BRIDGE with $addr is not up; run make cluster first"
  credentials >/dev/null
  apt_install openssh-server
  local tools
  tools=$("$root/scripts/tools.sh")
  cat >"$reg/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $reg/data
  delete:
    enabled: true
auth:
  htpasswd:
    realm: luban-e2e
    path: $reg/htpasswd
http:
  addr: $addr:5001
EOF
  launch registry 5001 "$tools/bin/registry" serve "$reg/config.yml"
  launch git-https 8418 "$python" "$here/git_https.py" --listen "$addr:8418" --root "$gitroot" \
    --tokens "$sec/git-tokens" --tls-cert "$tls/server.crt" --tls-key "$tls/server.key"
  cat >"$sshdir/sshd_config" <<EOF
ListenAddress $addr:2222
HostKey $sshdir/host_ed25519
PidFile none
AuthorizedKeysFile $sshdir/authorized_keys
# root only because no system user is created on this machine; the key's forced command runs git
# on the e2e repositories and nothing else (see authorized_keys).
PermitRootLogin forced-commands-only
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
StrictModes no
LogLevel INFO
EOF
  mkdir -p /run/sshd && chmod 755 /run/sshd
  launch sshd 2222 /usr/sbin/sshd -D -e -f "$sshdir/sshd_config"
  launch github 8443 "$python" "$root/tests/support/fake_github.py" --listen "$addr:8443" \
    --tls-cert "$tls/server.crt" --tls-key "$tls/server.key" --token-file "$sec/status-token" \
    --journal "$svc/github-requests.jsonl"
  launch proxy 3128 "$python" "$here/connect_proxy.py" --listen "$addr:3128" \
    --allow pypi.org --allow files.pythonhosted.org
  launch private-index 8421 "$python" "$here/private_index.py" --listen "$addr:8421" \
    --password-file "$sec/index-password" --tls-cert "$tls/server.crt" --tls-key "$tls/server.key"
  if [ -f "$LUBAN_CACHE/python-mirror/download-metadata.json" ]; then
    launch python-mirror 8420 "$python" -m http.server 8420 --bind "$addr" --directory "$LUBAN_CACHE/python-mirror"
  else
    say "no offline CPython mirror in $LUBAN_CACHE/python-mirror (make python-mirror): not serving it"
  fi
  status
}

stop() {
  local f name pid
  for f in "$svc"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid) pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

status() {
  local name
  for name in registry git-https sshd github proxy python-mirror private-index; do
    if running "$name"; then echo "$name: running (pid $(cat "$svc/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  credentials) credentials ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 credentials|start|stop|status" ;;
esac
