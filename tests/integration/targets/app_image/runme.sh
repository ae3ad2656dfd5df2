#!/usr/bin/env bash
# The role luban.ci.app_image with stand-ins for pack and crane (no Docker, registry or network):
# what it builds and records, a rebuild of the same inputs reporting no change, a moved tag or a
# new commit reporting one, check mode building nothing, and its refusals, word for word.
# The stand-in pack "publishes" a digest hashing the app's files and the builder, so the same
# inputs give the same digest, as the real reproducible build does.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/registry" "$work/mirror" "$work/src"
export ANSIBLE_CALLBACK_RESULT_FORMAT=json ANSIBLE_NOCOLOR=1

cat >"$work/bin/pack" <<'PACK'
#!/usr/bin/env bash
# pack build IMAGE --builder B --path DIR [--tag T]...: records its arguments; an app holding a
# file FAIL fails the build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
printf '%s\n' "$*" >>"$here/pack.log"
[ "$1" = build ] || exit 2
tags=("$2") builder='' path=''
shift 2
while [ $# -gt 0 ]; do
  case $1 in
    --builder) builder=$2; shift ;;
    --path) path=$2; shift ;;
    --tag) tags+=("$2"); shift ;;
  esac
  shift
done
if [ -e "$path/FAIL" ]; then
  echo "ERROR: failed to build: exit status 1"
  echo "stand-in build failure" >&2
  exit 3
fi
sum=$( (cd "$path" && find . -path ./.git -prune -o -type f -print | LC_ALL=C sort | xargs cat; echo "$builder") \
  | sha256sum | cut -c1-64)
for tag in "${tags[@]}"; do
  printf 'sha256:%s\n' "$sum" >"$here/registry/${tag//[\/:]/_}"
done
echo "Successfully built image '${tags[0]}'"
PACK

cat >"$work/bin/crane" <<'CRANE'
#!/usr/bin/env bash
# crane digest REF: the digest the stand-in registry holds for REF.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$1" = digest ] || exit 2
file="$here/registry/${2//[\/:]/_}"
[ -f "$file" ] || { echo "MANIFEST_UNKNOWN: $2" >&2; exit 1; }
cat "$file"
CRANE
chmod +x "$work/bin/pack" "$work/bin/crane"

printf '{}\n' >"$work/mirror/download-metadata.json"
printf 'uv-python-mirror' >"$work/mirror/type"
printf 'a CA bundle\n' >"$work/ca.crt"
printf 'flask\n' >"$work/src/requirements.txt"
printf 'print(1)\n' >"$work/src/app.py"
commit() {
  git -C "$work/src" add -A
  git -C "$work/src" -c user.name=luban -c user.email=luban@example.invalid commit -q -m "$1"
}
git -C "$work/src" init -q -b main
commit one

fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
# Runs the role; its output, on one line, in $out; its exit code in $rc.
play() {
  rc=0
  out=$(ansible-playbook -i localhost, -c local -e 'ansible_python_interpreter={{ ansible_playbook_python }}' \
    -e "work=$work" build.yml "$@" 2>&1) || rc=$?
  printf '%s\n' "$out"
  out=$(tr -s ' \n' ' ' <<<"$out")
}
changed() { grep -oE 'localhost +: ok=[0-9]+ +changed=[0-9]+' <<<"$out" | sed 's/.*changed=//'; }
says() { grep -qF -- "$1" <<<"$out" || fail "the output does not say: $1"; }
field() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/result.json" "$1"; }
builds() { if [ -f "$work/pack.log" ]; then wc -l <"$work/pack.log"; else echo 0; fi; }

echo "== check mode: nothing cloned, built or written"
play --check
[ "$rc" = 0 ] || fail "check mode failed"
says "Check mode: file://$work/src is not cloned"
says "Check mode: nothing is built or published, since pack build has no dry run."
[ "$(builds)" = 0 ] || fail "check mode ran pack"
[[ ! -e $work/result.json && ! -e $work/build-app/checkout ]] || fail "check mode wrote files"

echo "== first build: published, recorded, changed"
play
[ "$rc" = 0 ] || fail "the build failed"
[ "$(changed)" -gt 0 ] || fail "a new image was not reported as a change"
head=$(git -C "$work/src" rev-parse HEAD)
repo=registry.invalid/apps/src
digest=$(cat "$work/registry/${repo//[\/:]/_}_${head:0:12}")
[ "$(field image)" = "$repo@$digest" ] || fail "recorded image $(field image), expected $repo@$digest"
[ "$(field tag)" = "$repo:${head:0:12}" ] || fail "recorded tag $(field tag)"
[ "$(field commit)" = "$head" ] || fail "recorded commit $(field commit)"
[ "$(field language)/$(field selection_source)" = python/detected ] || fail "recorded language $(field language)"
[ "$(field ca_binding)/$(field python_mirror)" = True/True ] || fail "recorded bindings $(field ca_binding)/$(field python_mirror)"
expected="build $repo:latest --builder registry.invalid/luban/builder-python@sha256:0123 --path $work/build-app/checkout"
expected+=" --tag $repo:${head:0:12} --publish --trust-builder --pull-policy if-not-present --network host"
expected+=" --volume $work/build-app/bindings/ca-certificates:/platform/bindings/ca-certificates:ro"
expected+=" --volume $work/mirror:/platform/bindings/python-mirror:ro --run-image registry.invalid/luban/stack-run:debian-git"
[ "$(cat "$work/pack.log")" = "$expected" ] || fail "pack ran as: $(cat "$work/pack.log")"
[ "$(cat "$work/build-app/bindings/ca-certificates/type")" = ca-certificates ] || fail "no binding type"
cmp -s "$work/ca.crt" "$work/build-app/bindings/ca-certificates/ca-certificates.crt" || fail "the CA bundle was not copied"
says "Built $repo@$digest"
# requirements.txt, no uv.lock: luban.ci.build_inputs never looks for an earlier image of it.
says "Building: the app has no lock file (uv.lock), so its dependencies are resolved anew: it is always built."

echo "== the same inputs again: built, the same digest, no change"
play
[[ $rc = 0 && $(changed) = 0 ]] || fail "an unchanged rebuild reported changed=$(changed)"
[ "$(builds)" = 2 ] || fail "pack did not run again"

echo "== check mode once the commit is checked out: the selection is made, the build reported as one to run"
play --check
[ "$rc" = 0 ] || fail "check mode failed"
says "App: $work/build-app/checkout (python, detected), commit $head"
says "Check mode: nothing is built or published"
[ "$(builds)" = 2 ] || fail "check mode ran pack"

echo "== the moving tag names another image: rebuilding moves it back, a change"
printf 'sha256:%064d\n' 0 >"$work/registry/${repo//[\/:]/_}_latest"
play
[[ $rc = 0 && $(changed) -gt 0 ]] || fail "moving the tag back was not reported as a change"
[ "$(cat "$work/registry/${repo//[\/:]/_}_latest")" = "$digest" ] || fail "the moving tag was not published"

echo "== a new commit: a new digest, a change"
printf 'print(2)\n' >"$work/src/app.py"
commit two
play
[[ $rc = 0 && $(changed) -gt 0 ]] || fail "a new commit was not reported as a change"
[ "$(field digest)" != "$digest" ] || fail "a new commit kept the digest"

echo "== a failed build: the role's message and the end of the build log"
touch "$work/src/FAIL"
commit broken
play
[ "$rc" != 0 ] || fail "a failed build passed"
says "pack build failed (exit 3) for $work/build-app/checkout: the app was not built and nothing was published."
says "stand-in build failure"
rm "$work/src/FAIL"
commit fixed

echo "== the offline Python mirror is missing: the role's message, no build"
before=$(builds)
play -e "app_image_python_mirror_dir=$work/nowhere"
[ "$rc" != 0 ] || fail "a missing mirror passed"
says "GitHub is unreachable, so uv cannot download CPython during the build, and the offline Python mirror $work/nowhere does not exist"
[ "$(builds)" = "$before" ] || fail "pack ran without the mirror"

echo "== no builder: the role's message"
play -e app_image_builder=
[ "$rc" != 0 ] || fail "a build without a builder passed"
says "No builder is known for file://$work/src@main: app_image_builder is empty"

echo "app_image: all passed"
