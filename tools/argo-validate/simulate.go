package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Knetic/govaluate"
	aev1 "github.com/argoproj/argo-events/pkg/apis/events/v1alpha1"
	eventsdata "github.com/argoproj/argo-events/pkg/eventsources/events"
	"github.com/argoproj/argo-events/pkg/sensors/dependencies"
	"github.com/argoproj/argo-events/pkg/sensors/triggers"
	standardk8s "github.com/argoproj/argo-events/pkg/sensors/triggers/standard-k8s"
	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"
	gh "github.com/google/go-github/v50/github"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
)

// webhookCase is one recorded GitHub delivery. Signature: "good", "bad" or "missing".
type webhookCase struct {
	Name      string `json:"name"`
	Event     string `json:"event"`
	Delivery  string `json:"delivery"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
	Secret    string `json:"secret"`
	// EventID is the id the EventSource gives the event it makes of this HTTP request (a fresh
	// random UUID, as hex, per request in Argo Events); derived from Delivery when empty.
	EventID string `json:"eventId"`
}

type firedTrigger struct {
	Trigger        string            `json:"trigger"`
	Workflow       string            `json:"workflow"`
	Template       string            `json:"workflowTemplate"`
	Labels         map[string]string `json:"labels"`
	Parameters     map[string]string `json:"parameters"`
	Valid          bool              `json:"valid"`
	ValidError     string            `json:"validError,omitempty"`
	Redelivery     string            `json:"redelivery"`
	NewReceipt     string            `json:"newReceipt"`
	ExecutionError string            `json:"executionError,omitempty"`
}

type caseResult struct {
	Name          string         `json:"name"`
	Accepted      bool           `json:"accepted"`
	RejectedWith  string         `json:"rejectedWith,omitempty"`
	Dependencies  []string       `json:"dependencies"`
	FilterErrors  []string       `json:"filterErrors,omitempty"`
	Fired         []firedTrigger `json:"fired"`
	ConditionErrs []string       `json:"conditionErrors,omitempty"`
}

var workflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// receive mirrors the GitHub EventSource route handler: the HMAC check is go-github's
// ValidatePayload (the function the EventSource calls), then the event and delivery headers are
// copied into the body and wrapped as the EventSource's GithubEventData.
func receive(c webhookCase, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, "http://eventsource/github", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", c.Event)
	req.Header.Set("X-GitHub-Delivery", c.Delivery)
	switch c.Signature {
	case "good":
		req.Header.Set("X-Hub-Signature-256", sign(c.Secret, body))
	case "bad":
		req.Header.Set("X-Hub-Signature-256", sign(c.Secret+"-wrong", body))
	case "missing":
	default:
		return nil, fmt.Errorf("case %s: signature must be good, bad or missing", c.Name)
	}
	validated, err := gh.ValidatePayload(req, []byte(c.Secret))
	if err != nil {
		return nil, err
	}
	payload := map[string]any{}
	if err := json.Unmarshal(validated, &payload); err != nil {
		return nil, err
	}
	for _, h := range []string{"X-GitHub-Event", "X-GitHub-Delivery"} {
		payload[h] = req.Header.Get(h)
	}
	withHeaders, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(withHeaders)
	return json.Marshal(&eventsdata.GithubEventData{Headers: req.Header, Body: &raw})
}

// conditionsHold evaluates a trigger's conditions the way the JetStream trigger connection does.
func conditionsHold(trigger aev1.Trigger, sensor *aev1.Sensor, passed map[string]bool) (bool, error) {
	expr := trigger.Template.Conditions
	if expr == "" {
		names := make([]string, 0, len(sensor.Spec.Dependencies))
		for _, d := range sensor.Spec.Dependencies {
			names = append(names, d.Name)
		}
		expr = strings.Join(names, "&&")
	}
	ev, err := govaluate.NewEvaluableExpression(strings.ReplaceAll(expr, "-", "\\-"))
	if err != nil {
		return false, err
	}
	params := map[string]any{}
	for _, d := range sensor.Spec.Dependencies {
		params[d.Name] = passed[d.Name]
	}
	out, err := ev.Evaluate(params)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	return ok && b, nil
}

func simulate(dir, casesFile string) (any, bool, error) {
	ctx := argoContext()
	set, err := loadManifests(dir)
	if err != nil {
		return nil, false, err
	}
	if len(set.DecodeErrors) > 0 {
		return nil, false, fmt.Errorf("manifests do not decode strictly; run lint first")
	}
	rawCases, err := os.ReadFile(casesFile)
	if err != nil {
		return nil, false, err
	}
	var cases []webhookCase
	if err := json.Unmarshal(rawCases, &cases); err != nil {
		return nil, false, fmt.Errorf("%s: %w", casesFile, err)
	}
	getter := templateGetter(set.WorkflowTemplates)
	logger := zap.NewNop().Sugar()
	allOK := true
	var results []caseResult
	for _, c := range cases {
		res := caseResult{Name: c.Name, Dependencies: []string{}, Fired: []firedTrigger{}}
		payloadPath := c.Payload
		if !filepath.IsAbs(payloadPath) {
			payloadPath = filepath.Join(filepath.Dir(casesFile), payloadPath)
		}
		body, err := os.ReadFile(payloadPath)
		if err != nil {
			return nil, false, err
		}
		data, err := receive(c, body)
		if err != nil {
			res.RejectedWith = err.Error()
			results = append(results, res)
			continue
		}
		res.Accepted = true
		for _, esName := range sortedKeys(set.EventSources) {
			es := set.EventSources[esName]
			for eventName := range es.Spec.Github {
				eventID := c.EventID
				if eventID == "" {
					sum := sha256.Sum256([]byte(c.Delivery))
					eventID = hex.EncodeToString(sum[:16])
				}
				event := &aev1.Event{
					Context: &aev1.EventContext{
						ID: eventID, Source: es.Name, Subject: eventName, Type: string(aev1.GithubEvent),
						SpecVersion: "1.0", DataContentType: "application/json", Time: metav1.Time{Time: time.Now()},
					},
					Data: data,
				}
				for _, snName := range sortedKeys(set.Sensors) {
					sensor := set.Sensors[snName]
					passed := map[string]bool{}
					events := map[string]*aev1.Event{}
					for _, dep := range sensor.Spec.Dependencies {
						if dep.EventSourceName != es.Name || dep.EventName != eventName {
							continue
						}
						ok, ferr := dependencies.Filter(event, dep.Filters, dep.FiltersLogicalOperator)
						if ferr != nil {
							// The sensor treats a filter error as "no match"; keep it visible here.
							res.FilterErrors = append(res.FilterErrors, dep.Name+": "+ferr.Error())
						}
						if ok && ferr == nil {
							passed[dep.Name] = true
							events[dep.Name] = event
							res.Dependencies = append(res.Dependencies, dep.Name)
						}
					}
					for _, trig := range sensor.Spec.Triggers {
						hold, cerr := conditionsHold(trig, sensor, passed)
						if cerr != nil {
							res.ConditionErrs = append(res.ConditionErrs, trig.Template.Name+": "+cerr.Error())
							allOK = false
							continue
						}
						if !hold {
							continue
						}
						fired, ferr := fire(ctx, sensor, trig, events, getter, logger)
						if ferr != nil {
							fired.ExecutionError = ferr.Error()
							allOK = false
						}
						res.Fired = append(res.Fired, fired)
					}
				}
			}
		}
		sort.Strings(res.Dependencies)
		results = append(results, res)
	}
	return map[string]any{"cases": results}, allOK, nil
}

// fire runs a trigger through the Sensor's own k8s trigger (parameters, create) against a fake
// API server, then delivers the same event again (the EventBus redelivering it, the Sensor
// retrying a create whose answer was lost) to show the name deduplicates it, then the same
// delivery as a new request to the EventSource (GitHub's "Redeliver": a new event id) to show it
// creates a new Workflow.
func fire(ctx context.Context, sensor *aev1.Sensor, trig aev1.Trigger, events map[string]*aev1.Event,
	getter templateGetter, logger *zap.SugaredLogger) (firedTrigger, error) {
	out := firedTrigger{Trigger: trig.Template.Name, Labels: map[string]string{}, Parameters: map[string]string{}}
	if trig.Template.K8s == nil {
		return out, fmt.Errorf("trigger %s is not a k8s trigger", trig.Template.Name)
	}
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{workflowGVR: "WorkflowList"})
	var created *unstructured.Unstructured
	for attempt := 0; attempt < 3; attempt++ {
		t := trig.DeepCopy()
		if attempt == 2 {
			received := map[string]*aev1.Event{}
			for name, e := range events {
				again := e.DeepCopy()
				sum := sha256.Sum256([]byte("again:" + e.Context.ID))
				again.Context.ID = hex.EncodeToString(sum[:16])
				received[name] = again
			}
			events = received
		}
		if err := triggers.ApplyTemplateParameters(events, t); err != nil {
			return out, err
		}
		k8s := standardk8s.NewStandardK8sTrigger(k8sfake.NewSimpleClientset(), dyn, sensor, t, logger)
		resource, err := k8s.FetchResource(ctx)
		if err != nil {
			return out, err
		}
		resource, err = k8s.ApplyResourceParameters(events, resource)
		if err != nil {
			return out, err
		}
		result, err := k8s.Execute(ctx, events, resource)
		if attempt == 1 {
			if err == nil {
				out.Redelivery = "created a second Workflow"
			} else {
				out.Redelivery = err.Error()
			}
			continue
		}
		if attempt == 2 {
			if err == nil {
				out.NewReceipt = "created " + result.(*unstructured.Unstructured).GetName()
			} else {
				out.NewReceipt = err.Error()
			}
			break
		}
		if err != nil {
			return out, err
		}
		created = result.(*unstructured.Unstructured)
	}
	js, err := created.MarshalJSON()
	if err != nil {
		return out, err
	}
	wf := &wfv1.Workflow{}
	if err := decodeStrict(js, wf); err != nil {
		return out, err
	}
	out.Workflow = wf.Name
	if wf.Spec.WorkflowTemplateRef != nil {
		out.Template = wf.Spec.WorkflowTemplateRef.Name
	}
	for k, v := range wf.Labels {
		if strings.HasPrefix(k, "luban.ci/") {
			out.Labels[k] = v
		}
	}
	for _, p := range wf.Spec.Arguments.Parameters {
		if p.Value != nil {
			out.Parameters[p.Name] = p.Value.String()
		}
	}
	out.Valid = true
	if err := validate.ValidateWorkflow(ctx, getter, noClusterTemplates{}, wf, nil, validate.ValidateOpts{Submit: true}); err != nil {
		out.Valid, out.ValidError = false, err.Error()
	} else if err := stringValues(created); err != nil {
		out.Valid, out.ValidError = false, err.Error()
	}
	return out, nil
}

// stringValues refuses what the API server refuses and Argo's Go types accept: a Workflow
// argument whose value is not a JSON string (YAML's `value: true` in the Sensor's resource). The
// Workflow CRD's schema types every parameter value as a string; wfv1.AnyString decodes a boolean
// or a number into one.
func stringValues(wf *unstructured.Unstructured) error {
	params, _, err := unstructured.NestedSlice(wf.Object, "spec", "arguments", "parameters")
	if err != nil {
		return err
	}
	for i, p := range params {
		param, _ := p.(map[string]any)
		if v, ok := param["value"]; ok {
			if _, isString := v.(string); !isString {
				return fmt.Errorf("spec.arguments.parameters[%d].value: Invalid value: %q: must be a string "+
					"(the Workflow CRD types every parameter value as a string; quote it in the Sensor)", i, fmt.Sprintf("%T", v))
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
