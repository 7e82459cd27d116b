package main

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	"sigs.k8s.io/kwok/pkg/apis/v1alpha1"
	"sigs.k8s.io/yaml"
)

// The stages kwok plays on Pods and volumes, one per file, written to simulate Pods the way
// rekon's emulator does (same statuses, reasons, timing and rekon.dev/simulate modes), so a
// test manifest behaves the same on both clusters. helpers.jq and helpers.tpl hold what the
// stages share: kwok reads each jq program and template on its own, so they are put in
// front of every one.
//
// What kwok's Stage API cannot say, and what the stages do instead: an event's message is
// fixed text (no container or image name in it); kwok holds one pending stage per Pod, so a
// Pod whose containers would follow two timelines at once (a crash loop or a slow start beside
// an image that never pulls) follows them one after the other; and timestamps keep whole
// seconds, so a delay counted from one may end up to a second early.
//
//go:embed stages
var stageFiles embed.FS

// kwokStages returns kwok's configuration: its own node-initialize stage (Nodes Ready at
// once), then the stages of the stages folder with the shared definitions in place.
func kwokStages() (string, error) {
	jq, err := stageFiles.ReadFile("stages/helpers.jq")
	if err != nil {
		return "", err
	}
	tpl, err := stageFiles.ReadFile("stages/helpers.tpl")
	if err != nil {
		return "", err
	}
	names, err := fs.Glob(stageFiles, "stages/*.yaml")
	if err != nil {
		return "", err
	}
	docs := []string{nodefast.DefaultNodeInit}
	for _, name := range names {
		data, err := stageFiles.ReadFile(name)
		if err != nil {
			return "", err
		}
		var stage v1alpha1.Stage
		// Strict: a misspelt field would otherwise be dropped without a word.
		if err := yaml.UnmarshalStrict(data, &stage); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		withHelpers(&stage.Spec, string(jq), string(tpl))
		out, err := yaml.Marshal(&stage)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		docs = append(docs, string(out))
	}
	return strings.Join(docs, "\n---\n"), nil
}

// withHelpers puts the jq definitions in front of every jq program of spec and the template
// helpers in front of every template that calls one.
func withHelpers(spec *v1alpha1.StageSpec, jq, tpl string) {
	program := func(p *string) { *p = jq + "\n" + *p }
	from := func(e *v1alpha1.ExpressionFrom) {
		if e != nil && e.JQ != nil {
			program(&e.JQ.Expression)
		}
	}
	if spec.Selector != nil {
		for i := range spec.Selector.MatchExpressions {
			if q := spec.Selector.MatchExpressions[i].JQ; q != nil {
				program(&q.Key)
			}
		}
	}
	from(spec.WeightFrom)
	if spec.Delay != nil {
		from(spec.Delay.DurationFrom)
		from(spec.Delay.JitterDurationFrom)
	}
	// Only where they are called: they use functions kwok gives Pod templates alone.
	template := func(t *string) {
		if strings.Contains(*t, `template "rekon.`) {
			*t = tpl + *t
		}
	}
	for i := range spec.Steps {
		if p := spec.Steps[i].Patch; p != nil {
			template(&p.Template)
		}
		if a := spec.Steps[i].Apply; a != nil {
			template(&a.Template)
		}
	}
}
