# kube-network-policies: the NetworkPolicy agent of the test cluster, run as a host process
# (scripts/cluster/up.sh). Built from main.go here, which reads a kubeconfig (upstream's command
# knows only the in-cluster service-account configuration), and a copy of the published module
# with overlay/ added and two changes to its controller (overlay/pkg/networkpolicy/ says why):
#   - the nftables rules queue packets through the xtables NFQUEUE target, not nftables' queue
#     expression, which this machine's kernel lacks (CONFIG_NFT_QUEUE is off);
#   - the lookup of a pod by address works without NRI (v0.8.0 crashes there when NRI is off).
recipe() {
  local v; v=$(pinned sigs.k8s.io/kube-network-policies)
  module_source sigs.k8s.io/kube-network-policies "$v" src
  cp -R overlay/. src/
  local f=src/pkg/networkpolicy/controller.go
  rewrite "$f" 2 'queue := &expr.Queue{Num: uint16(c.config.QueueID)}' 'queue := nfqueueTarget(c.config.QueueID, false)'
  rewrite "$f" 2 'queue.Flag = expr.QueueFlagBypass' 'queue = nfqueueTarget(c.config.QueueID, true)'
  rewrite "$f" 1 'podKey := c.nriPlugin.GetPodFromIP(podIP)' 'podKey := nriPodFromIP(c.nriPlugin, podIP)'
  ! grep -q 'expr\.Queue' "$f" || die "kube-network-policies $v: $f still uses nftables' queue expression"
  go_build kube-network-policies .
}

# rewrite FILE COUNT OLD NEW: replace OLD (a fixed string, found on exactly COUNT lines) by NEW.
rewrite() {
  local file=$1 count=$2 old=$3 new=$4 pattern replacement
  [ "$(grep -cF -- "$old" "$file")" = "$count" ] ||
    die "kube-network-policies: '$old' is not on $count lines of $file any more; revisit tools/kube-network-policies/recipe.sh"
  pattern=$(printf '%s' "$old" | sed 's/[][\.*^$/]/\\&/g')
  replacement=$(printf '%s' "$new" | sed 's/[\/&]/\\&/g')
  sed -i "s/$pattern/$replacement/" "$file"
}
