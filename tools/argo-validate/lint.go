package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	aev1 "github.com/argoproj/argo-events/pkg/apis/events/v1alpha1"
	ebvalidate "github.com/argoproj/argo-events/pkg/reconciler/eventbus"
	esvalidate "github.com/argoproj/argo-events/pkg/reconciler/eventsource"
	snvalidate "github.com/argoproj/argo-events/pkg/reconciler/sensor"
	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"
	corev1 "k8s.io/api/core/v1"
	apierr "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

// The language registry ConfigMap rendered by the argo_workflows role.
const (
	registryConfigMap = "luban-languages"
	registryKey       = "registry.json"
)

type lintResult struct {
	File   string `json:"file"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// templateGetter resolves templateRefs only from the rendered files, like `argo lint --offline`.
type templateGetter map[string]*wfv1.WorkflowTemplate

func (g templateGetter) Get(_ context.Context, name string) (*wfv1.WorkflowTemplate, error) {
	if t, ok := g[name]; ok {
		return t.DeepCopy(), nil
	}
	return nil, apierr.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "workflowtemplates"}, name)
}

type noClusterTemplates struct{}

func (noClusterTemplates) Get(_ context.Context, name string) (*wfv1.ClusterWorkflowTemplate, error) {
	return nil, apierr.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "clusterworkflowtemplates"}, name)
}

func argoContext() context.Context {
	logger := logging.NewSlogLoggerCustom(logging.Warn, logging.JSON, os.Stderr)
	return logging.WithLogger(context.Background(), logger)
}

// registryTemplates returns the per-language WorkflowTemplate names from the registry ConfigMap.
func registryTemplates(set *manifestSet) ([]string, error) {
	cm, ok := set.ConfigMaps[registryConfigMap]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s not found in the rendered manifests", registryConfigMap)
	}
	var entries []struct {
		Name     string   `json:"name"`
		Detect   []string `json:"detect"`
		Builder  string   `json:"builder"`
		Template string   `json:"template"`
	}
	if err := json.Unmarshal([]byte(cm.Data[registryKey]), &entries); err != nil {
		return nil, fmt.Errorf("ConfigMap %s key %s: %w", registryConfigMap, registryKey, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Template)
	}
	return names, nil
}

// expandDynamicRefs returns one copy of tmpl per registry template with every templateRef whose
// name is an Argo expression (chosen at run time by detect) replaced by that template's name, so
// the reference is resolved and validated for every language the registry can select.
func expandDynamicRefs(tmpl *wfv1.WorkflowTemplate, candidates []string) (map[string]*wfv1.WorkflowTemplate, int) {
	dynamic := 0
	for _, t := range tmpl.Spec.Templates {
		for _, group := range t.Steps {
			for _, s := range group.Steps {
				if s.TemplateRef != nil && strings.Contains(s.TemplateRef.Name, "{{") {
					dynamic++
				}
			}
		}
		if t.DAG != nil {
			for _, task := range t.DAG.Tasks {
				if task.TemplateRef != nil && strings.Contains(task.TemplateRef.Name, "{{") {
					dynamic++
				}
			}
		}
	}
	out := map[string]*wfv1.WorkflowTemplate{}
	if dynamic == 0 {
		return out, 0
	}
	for _, candidate := range candidates {
		c := tmpl.DeepCopy()
		for i := range c.Spec.Templates {
			t := &c.Spec.Templates[i]
			for gi := range t.Steps {
				for si := range t.Steps[gi].Steps {
					ref := t.Steps[gi].Steps[si].TemplateRef
					if ref != nil && strings.Contains(ref.Name, "{{") {
						ref.Name = candidate
					}
				}
			}
			if t.DAG != nil {
				for ti := range t.DAG.Tasks {
					ref := t.DAG.Tasks[ti].TemplateRef
					if ref != nil && strings.Contains(ref.Name, "{{") {
						ref.Name = candidate
					}
				}
			}
		}
		out[candidate] = c
	}
	return out, dynamic
}

func lint(dir string) (any, bool, error) {
	ctx := argoContext()
	set, err := loadManifests(dir)
	if err != nil {
		return nil, false, err
	}
	var results []lintResult
	allOK := true
	add := func(r lintResult) {
		if !r.OK {
			allOK = false
		}
		results = append(results, r)
	}
	keys := make([]string, 0, len(set.DecodeErrors))
	for k := range set.DecodeErrors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(lintResult{File: k, Check: "strict-decode", OK: false, Error: set.DecodeErrors[k].Error()})
	}

	getter := templateGetter(set.WorkflowTemplates)
	candidates, regErr := registryTemplates(set)
	if regErr != nil && len(set.WorkflowTemplates) > 0 {
		add(lintResult{Kind: "ConfigMap", Name: registryConfigMap, Check: "language-registry", OK: false, Error: regErr.Error()})
	}
	for _, d := range set.Documents {
		switch d.Kind {
		case "WorkflowTemplate":
			tmpl, ok := set.WorkflowTemplates[d.Name]
			if !ok {
				continue
			}
			r := lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "argo-workflows-validate", OK: true}
			if err := validate.ValidateWorkflowTemplate(ctx, getter, noClusterTemplates{}, tmpl.DeepCopy(), nil, validate.ValidateOpts{Lint: true}); err != nil {
				r.OK, r.Error = false, err.Error()
			}
			add(r)
			if tmpl.Spec.PodSpecPatch != "" {
				add(podSpecPatchResult(d, tmpl))
			}
			expanded, dynamic := expandDynamicRefs(tmpl, candidates)
			for candidate, c := range expanded {
				r := lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "argo-workflows-validate-templateref", OK: true,
					Detail: fmt.Sprintf("%d run-time templateRef(s) resolved to %s", dynamic, candidate)}
				if err := validate.ValidateWorkflowTemplate(ctx, getter, noClusterTemplates{}, c, nil, validate.ValidateOpts{Lint: true}); err != nil {
					r.OK, r.Error = false, err.Error()
				}
				add(r)
			}
		case "NetworkPolicy":
			if _, ok := set.NetworkPolicies[d.Name]; ok {
				add(lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "strict-decode", OK: true})
			}
		case "EventBus":
			if eb, ok := set.EventBuses[d.Name]; ok {
				r := lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "argo-events-validate", OK: true}
				if err := ebvalidate.ValidateEventBus(eb.DeepCopy()); err != nil {
					r.OK, r.Error = false, err.Error()
				}
				add(r)
			}
		case "EventSource":
			if es, ok := set.EventSources[d.Name]; ok {
				r := lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "argo-events-validate", OK: true}
				if err := esvalidate.ValidateEventSource(es.DeepCopy()); err != nil {
					r.OK, r.Error = false, err.Error()
				}
				add(r)
			}
		case "Sensor":
			if sn, ok := set.Sensors[d.Name]; ok {
				r := lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "argo-events-validate", OK: true}
				eb := eventBusFor(set, sn)
				if eb == nil {
					r.OK, r.Error = false, "no EventBus for the Sensor in the rendered manifests"
				} else if err := snvalidate.ValidateSensor(sn.DeepCopy(), eb.DeepCopy()); err != nil {
					r.OK, r.Error = false, err.Error()
				}
				add(r)
			}
		}
	}
	if len(results) == 0 {
		return nil, false, fmt.Errorf("no Argo objects found under %s", dir)
	}
	return map[string]any{"results": results}, allOK, nil
}

func eventBusFor(set *manifestSet, sn *aev1.Sensor) *aev1.EventBus {
	name := sn.Spec.EventBusName
	if name == "" {
		name = "default"
	}
	return set.EventBuses[name]
}

// applyPodSpecPatch is Argo's workflow/util.ApplyPodSpecPatch (v4.0.2), which the controller
// calls on every pod after it has added its init and wait containers: YAML to JSON, the patch must
// decode as a PodSpec, then a strategic merge patch. (That package drags the Argo server's SSO
// modules into the build, so its few lines are repeated here.)
func applyPodSpecPatch(podSpec corev1.PodSpec, patchYAML string) (*corev1.PodSpec, error) {
	podSpecJSON, err := json.Marshal(podSpec)
	if err != nil {
		return nil, err
	}
	patchJSON, err := yaml.YAMLToJSON([]byte(patchYAML))
	if err != nil {
		return nil, fmt.Errorf("failed to convert the PodSpecPatch yaml to json: %w", err)
	}
	if err := json.Unmarshal(patchJSON, &corev1.PodSpec{}); err != nil {
		return nil, fmt.Errorf("invalid podSpecPatch %q: %w", patchYAML, err)
	}
	merged, err := strategicpatch.StrategicMergePatch(podSpecJSON, patchJSON, corev1.PodSpec{})
	if err != nil {
		return nil, fmt.Errorf("error occurred during strategic merge patch: %w", err)
	}
	var out corev1.PodSpec
	if err := json.Unmarshal(merged, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// podSpecPatchResult applies a WorkflowTemplate's podSpecPatch as the controller does to a pod of
// the shape it builds (init, wait, main) and reports the resulting containers' resources (Detail,
// JSON: container name -> resources).
func podSpecPatchResult(d document, tmpl *wfv1.WorkflowTemplate) lintResult {
	r := lintResult{File: d.File, Kind: d.Kind, Name: d.Name, Check: "argo-workflows-podspecpatch", OK: true}
	pod := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "argoexec"}},
		Containers:     []corev1.Container{{Name: "wait", Image: "argoexec"}, {Name: "main", Image: "main"}},
	}
	patched, err := applyPodSpecPatch(pod, tmpl.Spec.PodSpecPatch)
	if err != nil {
		r.OK, r.Error = false, err.Error()
		return r
	}
	out := map[string]corev1.ResourceRequirements{}
	names := []string{}
	for _, c := range append(append([]corev1.Container{}, patched.InitContainers...), patched.Containers...) {
		out[c.Name] = c.Resources
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "init,wait,main" {
		r.OK, r.Error = false, "the patch changed the pod's containers: "+strings.Join(names, ",")
	}
	js, err := json.Marshal(out)
	if err != nil {
		r.OK, r.Error = false, err.Error()
		return r
	}
	r.Detail = string(js)
	return r
}
