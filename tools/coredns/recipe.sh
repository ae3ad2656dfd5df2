# CoreDNS: the cluster DNS (its Corefile in scripts/cluster has no forwarder).
recipe() { go_build coredns github.com/coredns/coredns; }
