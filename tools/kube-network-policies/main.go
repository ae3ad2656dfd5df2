// kube-network-policies for the test cluster (make cluster): the NetworkPolicy agent of
// sigs.k8s.io/kube-network-policies, started by scripts/cluster/up.sh as a host process beside
// kubelet and kube-proxy. The cluster's bridge CNI enforces no NetworkPolicy; this agent does:
// it keeps an nftables table (inet kube-network-policies) that queues the first packet of each
// connection to or from a pod selected by a NetworkPolicy to userspace, where the policies decide.
// Upstream's own command reads only the in-cluster service-account configuration; this one takes
// a kubeconfig. AdminNetworkPolicy and BaselineAdminNetworkPolicy stay off, and so does NRI (the
// cluster's containerd has none): pod addresses come from the API server.
// scripts/gotool.sh kube-network-policies builds it (recipe.sh); never part of the collection.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

func main() { os.Exit(run()) }

func run() int {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster (required)")
	nodeName := flag.String("hostname-override", "", "name of the Node this agent enforces policies on (required)")
	queueID := flag.Int("nfqueue-id", 100, "number of the nfqueue the packets to decide on are sent to")
	metrics := flag.String("metrics-bind-address", "127.0.0.1:9080", "address and port of the /metrics endpoint")
	failOpen := flag.Bool("fail-open", false, "let packets through while no agent reads the queue (default: drop them)")
	// Upstream's workaround for netfilter bug 1766 (UDP DNS racing conntrack) is needed before Linux 6.12 only.
	dnsFix := flag.Bool("netfilter-bug-1766-fix", false, "decide on DNS packets in PREROUTING (kernels before 6.12)")
	cleanup := flag.Bool("cleanup", false, "remove the agent's nftables table, say whether there was one, and exit")
	klog.InitFlags(nil)
	flag.Parse()
	if *cleanup {
		return removeTable()
	}
	if *kubeconfig == "" || *nodeName == "" {
		fmt.Fprintln(os.Stderr, "kube-network-policies: --kubeconfig and --hostname-override are required")
		return 2
	}
	if _, _, err := net.SplitHostPort(*metrics); err != nil {
		fmt.Fprintf(os.Stderr, "kube-network-policies: --metrics-bind-address %q: %v\n", *metrics, err)
		return 2
	}

	// SIGTERM too (upstream stops on SIGINT only): the controller removes its nftables table on the
	// way out, and a table left queueing to nobody drops the selected pods' traffic.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.ErrorS(err, "reading the kubeconfig", "path", *kubeconfig)
		return 1
	}
	config.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	config.ContentType = "application/vnd.kubernetes.protobuf"
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		klog.ErrorS(err, "creating the Kubernetes client")
		return 1
	}
	factory := informers.NewSharedInformerFactory(clientset, 0)

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	go func() {
		if err := http.ListenAndServe(*metrics, mux); err != nil {
			klog.ErrorS(err, "metrics endpoint", "address", *metrics)
		}
	}()

	controller, err := networkpolicy.NewController(clientset,
		factory.Networking().V1().NetworkPolicies(), factory.Core().V1().Namespaces(), factory.Core().V1().Pods(),
		nil, nil, nil, nil,
		networkpolicy.Config{
			FailOpen:            *failOpen,
			QueueID:             *queueID,
			NodeName:            *nodeName,
			NetfilterBug1766Fix: *dnsFix,
			NRIdisabled:         true,
		})
	if err != nil {
		klog.ErrorS(err, "creating the network policy controller")
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx) }()
	factory.Start(ctx.Done())

	select {
	case err = <-done: // the controller stopped on its own (e.g. the nfqueue could not be opened)
		klog.ErrorS(err, "the network policy controller stopped")
		return 1
	case <-ctx.Done():
	}
	// Run removes the nftables table before it returns.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		klog.Info("the controller did not stop within 10s; its nftables table may be left behind")
		return 1
	}
	return 0
}

// table is the nftables table the controller keeps (networkpolicy.Config's default NFTableName).
const table = "kube-network-policies"

// removeTable deletes the table a killed agent left behind (scripts/cluster/down.sh), as
// `kube-proxy --cleanup` does for kube-proxy's rules; no nft command is needed.
func removeTable() int {
	nft, err := nftables.New()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-network-policies --cleanup: %v\n", err)
		return 1
	}
	tables, err := nft.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-network-policies --cleanup: listing nftables tables: %v\n", err)
		return 1
	}
	for _, t := range tables {
		if t.Name == table {
			nft.DelTable(t)
			if err := nft.Flush(); err != nil {
				fmt.Fprintf(os.Stderr, "kube-network-policies --cleanup: removing table inet %s: %v\n", table, err)
				return 1
			}
			fmt.Printf("removed nftables table inet %s\n", table)
			return 0
		}
	}
	fmt.Printf("no nftables table inet %s\n", table)
	return 0
}
