// Command argo-validate checks luban-ci's rendered manifests with Argo's own code:
// strict decoding into the Argo Workflows v4 and Argo Events v1.9 Go types, the
// validators behind `argo lint` and the Argo Events controller, and the Sensor's
// filter, parameter and k8s-trigger code fed with recorded GitHub webhooks.
//
//	argo-validate lint DIR              every Argo object under DIR; JSON report on stdout
//	argo-validate simulate DIR CASES    webhook cases (JSON list) through the rendered Sensor
//
// Exit status: 0 when everything passed, 1 when a check failed, 2 on bad usage.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	var report any
	var ok bool
	var err error
	switch os.Args[1] {
	case "lint":
		report, ok, err = lint(os.Args[2])
	case "simulate":
		if len(os.Args) != 4 {
			usage()
		}
		report, ok, err = simulate(os.Args[2], os.Args[3])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argo-validate:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(report); err != nil {
		fmt.Fprintln(os.Stderr, "argo-validate:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: argo-validate lint DIR | argo-validate simulate DIR CASES.json")
	os.Exit(2)
}
