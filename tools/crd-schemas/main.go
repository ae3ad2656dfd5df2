// Command crd-schemas writes JSON Schemas for the Argo CD and Gateway API objects luban-ci
// renders, built from the projects' own Go types (their generated OpenAPI definitions), with
// every object closed (additionalProperties: false) so an unknown field is an error, as the API
// server's structural-schema pruning would silently drop it.
//
//	crd-schemas OUTDIR    writes Application.json, AppProject.json, HTTPRoute.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cdv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
	gwopenapi "sigs.k8s.io/gateway-api/pkg/generated/openapi"
)

var roots = map[string]string{
	"Application": "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1.Application",
	"AppProject":  "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1.AppProject",
	"HTTPRoute":   "sigs.k8s.io/gateway-api/apis/v1.HTTPRoute",
}

func key(name string) string { return strings.ReplaceAll(name, "/", "~1") }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crd-schemas OUTDIR")
		os.Exit(2)
	}
	ref := func(path string) spec.Ref { return spec.MustCreateRef("#/definitions/" + key(path)) }
	defs := map[string]common.OpenAPIDefinition{}
	for k, v := range gwopenapi.GetOpenAPIDefinitions(ref) {
		defs[k] = v
	}
	for k, v := range cdv1.GetOpenAPIDefinitions(ref) {
		defs[k] = v
	}
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		fail(err)
	}
	for kind, root := range roots {
		doc, missing, err := build(defs, root)
		if err != nil {
			fail(err)
		}
		out, err := json.MarshalIndent(doc, "", " ")
		if err != nil {
			fail(err)
		}
		if err := os.WriteFile(filepath.Join(os.Args[1], kind+".json"), out, 0o644); err != nil {
			fail(err)
		}
		fmt.Printf("%s: %d definitions; open (no Go type in these modules): %s\n", kind, len(doc["definitions"].(map[string]any)), strings.Join(missing, ", "))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crd-schemas:", err)
	os.Exit(1)
}

// build collects the definitions reachable from root into one self-contained document.
func build(defs map[string]common.OpenAPIDefinition, root string) (map[string]any, []string, error) {
	out := map[string]any{}
	var missing []string
	queue := []string{root}
	seen := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		def, ok := defs[name]
		if !ok {
			if known := openSchema(name); known != nil {
				out[name] = known
			} else {
				out[name] = map[string]any{}
				missing = append(missing, name)
			}
			continue
		}
		raw, err := json.Marshal(def.Schema)
		if err != nil {
			return nil, nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, nil, err
		}
		closeObjects(m)
		out[name] = m
		queue = append(queue, def.Dependencies...)
	}
	sort.Strings(missing)
	return map[string]any{
		"$schema":     "http://json-schema.org/draft-04/schema#",
		"$ref":        "#/definitions/" + key(root),
		"definitions": out,
	}, missing, nil
}

// openSchema gives the few well-known value types their JSON shape.
func openSchema(name string) map[string]any {
	switch name {
	case "k8s.io/apimachinery/pkg/util/intstr.IntOrString":
		return map[string]any{"type": []string{"integer", "string"}}
	case "k8s.io/apimachinery/pkg/apis/meta/v1.Time":
		return map[string]any{"type": "string", "format": "date-time"}
	case "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1.JSON", "k8s.io/apimachinery/pkg/runtime.RawExtension":
		return map[string]any{}
	}
	return nil
}

// closeObjects forbids unknown properties on every object schema that lists its properties.
func closeObjects(node any) {
	switch n := node.(type) {
	case map[string]any:
		if props, ok := n["properties"].(map[string]any); ok && len(props) > 0 {
			if _, set := n["additionalProperties"]; !set {
				n["additionalProperties"] = false
			}
		}
		if f, ok := n["format"].(string); ok && f == "int-or-string" {
			delete(n, "type")
			n["type"] = []string{"integer", "string"}
		}
		for _, v := range n {
			closeObjects(v)
		}
	case []any:
		for _, v := range n {
			closeObjects(v)
		}
	}
}
