package networkpolicy

// Added to a build-time copy of the module by tools/kube-network-policies/recipe.sh.

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// nfqueueTarget is the xtables NFQUEUE target (revision 3) run through nf_tables' compat layer,
// in place of nftables' own queue expression: a kernel built without CONFIG_NFT_QUEUE refuses
// that expression (ENOENT), yet still queues to userspace through CONFIG_NFT_COMPAT and
// CONFIG_NETFILTER_XT_TARGET_NFQUEUE. Same queue, same bypass (fail-open) meaning.
func nfqueueTarget(queueID int, bypass bool) *expr.Target {
	// struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16 flags; }, XT_ALIGNed to 8.
	info := make([]byte, 8)
	binary.NativeEndian.PutUint16(info[0:], uint16(queueID))
	binary.NativeEndian.PutUint16(info[2:], 1)
	if bypass {
		binary.NativeEndian.PutUint16(info[4:], 0x01) // NFQ_FLAG_BYPASS
	}
	payload := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &payload}
}

// nriPodFromIP is the pod key NRI knows for ip, or "" without an NRI plugin: v0.8.0 calls the
// plugin unguarded for every address the API server names no pod for (the private ranges, the
// internet), so an agent with NRI disabled crashed on the first such packet.
func nriPodFromIP(plugin *nriPlugin, ip string) string {
	if plugin == nil {
		return ""
	}
	return plugin.GetPodFromIP(ip)
}
