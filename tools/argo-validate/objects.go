package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	aev1 "github.com/argoproj/argo-events/pkg/apis/events/v1alpha1"
	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// document is one YAML document of a rendered file, already converted to JSON.
type document struct {
	File string
	Kind string
	Name string
	JSON []byte
}

// manifestSet holds every Argo object found under a directory, decoded strictly.
type manifestSet struct {
	Documents         []document
	WorkflowTemplates map[string]*wfv1.WorkflowTemplate
	EventBuses        map[string]*aev1.EventBus
	EventSources      map[string]*aev1.EventSource
	Sensors           map[string]*aev1.Sensor
	ConfigMaps        map[string]*corev1.ConfigMap
	NetworkPolicies   map[string]*networkingv1.NetworkPolicy
	DecodeErrors      map[string]error // key: file#kind/name
}

// readDocuments walks dir for *.yaml files and splits them into documents.
func readDocuments(dir string) ([]document, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no YAML files under %s: run `make manifests` first", dir)
	}
	var docs []document
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for {
			chunk, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if len(bytes.TrimSpace(chunk)) == 0 {
				continue
			}
			js, err := yaml.YAMLToJSON(chunk)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if string(js) == "null" {
				continue
			}
			var head struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &head); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			docs = append(docs, document{File: f, Kind: head.Kind, Name: head.Metadata.Name, JSON: js})
		}
	}
	return docs, nil
}

// decodeStrict refuses unknown and duplicate fields, as `argo lint --strict` does.
func decodeStrict(js []byte, into any) error {
	strictErrs, err := kjson.UnmarshalStrict(js, into)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, 0, len(strictErrs))
		for _, e := range strictErrs {
			msgs = append(msgs, e.Error())
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}

func loadManifests(dir string) (*manifestSet, error) {
	docs, err := readDocuments(dir)
	if err != nil {
		return nil, err
	}
	set := &manifestSet{
		Documents:         docs,
		WorkflowTemplates: map[string]*wfv1.WorkflowTemplate{},
		EventBuses:        map[string]*aev1.EventBus{},
		EventSources:      map[string]*aev1.EventSource{},
		Sensors:           map[string]*aev1.Sensor{},
		ConfigMaps:        map[string]*corev1.ConfigMap{},
		NetworkPolicies:   map[string]*networkingv1.NetworkPolicy{},
		DecodeErrors:      map[string]error{},
	}
	for _, d := range docs {
		key := d.File + "#" + d.Kind + "/" + d.Name
		var err error
		switch d.Kind {
		case "WorkflowTemplate":
			obj := &wfv1.WorkflowTemplate{}
			if err = decodeStrict(d.JSON, obj); err == nil {
				set.WorkflowTemplates[obj.Name] = obj
			}
		case "EventBus":
			obj := &aev1.EventBus{}
			if err = decodeStrict(d.JSON, obj); err == nil {
				set.EventBuses[obj.Name] = obj
			}
		case "EventSource":
			obj := &aev1.EventSource{}
			if err = decodeStrict(d.JSON, obj); err == nil {
				set.EventSources[obj.Name] = obj
			}
		case "Sensor":
			obj := &aev1.Sensor{}
			if err = decodeStrict(d.JSON, obj); err == nil {
				set.Sensors[obj.Name] = obj
			}
		case "ConfigMap":
			obj := &corev1.ConfigMap{}
			if err = decodeStrict(d.JSON, obj); err == nil {
				set.ConfigMaps[obj.Name] = obj
			}
		case "NetworkPolicy":
			obj := &networkingv1.NetworkPolicy{}
			if err = decodeStrict(d.JSON, obj); err == nil {
				set.NetworkPolicies[obj.Name] = obj
			}
		case "Workflow", "ClusterWorkflowTemplate", "CronWorkflow":
			err = fmt.Errorf("kind %s is not expected in luban-ci's rendered manifests", d.Kind)
		}
		if err != nil {
			set.DecodeErrors[key] = err
		}
	}
	return set, nil
}
