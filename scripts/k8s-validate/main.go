// k8s-validate: offline Kubernetes manifest checks for scripts/helm-check.
//
//	k8s-validate schemas DIR   writes kubeconform JSON schemas (strict: no
//	                           unknown fields) for the built-in kinds whose
//	                           OpenAPI v3 documents k8s.io/client-go embeds
//	                           (core/v1, apps/v1, batch/v1, discovery/v1, ...)
//	k8s-validate strict FILE.. decodes every document of the rendered YAML
//	                           files strictly into its Go type (k8s.io/api
//	                           and prometheus-operator's ServiceMonitor):
//	                           unknown or duplicate fields and wrong value
//	                           types are errors.
//
// kubeconform normally downloads its schemas from GitHub, which this
// project's machines cannot reach; these two sources come from Go modules.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/openapi/openapitest"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: k8s-validate schemas DIR | strict FILE...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "schemas":
		err = writeSchemas(os.Args[2])
	case "strict":
		err = strictDecode(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-validate:", err)
		os.Exit(1)
	}
}

// ---- schemas ---------------------------------------------------------------

type gvk struct{ Group, Version, Kind string }

func writeSchemas(dir string) error {
	paths, err := openapitest.NewEmbeddedFileClient().Paths()
	if err != nil {
		return err
	}
	defs := map[string]any{}
	var groupVersions []string
	for path, gv := range paths {
		raw, err := gv.Schema("application/json")
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var doc struct {
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for name, s := range doc.Components.Schemas {
			defs[name] = s
		}
		groupVersions = append(groupVersions, path)
	}
	sort.Strings(groupVersions)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	written := 0
	for name, s := range defs {
		for _, k := range kindsOf(s) {
			// kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}: "statefulset-apps-v1", "service-v1".
			suffix := "-" + k.Version
			if k.Group != "" {
				suffix = "-" + strings.ToLower(strings.Split(k.Group, ".")[0]) + "-" + k.Version
			}
			file := filepath.Join(dir, strings.ToLower(k.Kind)+suffix+".json")
			out, err := standalone(name, defs)
			if err != nil {
				return err
			}
			if err := os.WriteFile(file, out, 0o644); err != nil {
				return err
			}
			written++
		}
	}
	fmt.Printf("k8s-validate: %d kind schemas from %s\n", written, strings.Join(groupVersions, ", "))
	return nil
}

func kindsOf(s any) []gvk {
	m, _ := s.(map[string]any)
	list, _ := m["x-kubernetes-group-version-kind"].([]any)
	var out []gvk
	for _, e := range list {
		em, _ := e.(map[string]any)
		g, _ := em["group"].(string)
		v, _ := em["version"].(string)
		k, _ := em["kind"].(string)
		if k != "" && v != "" {
			out = append(out, gvk{g, v, k})
		}
	}
	return out
}

// standalone: the kind's schema with every definition it reaches under $defs.
func standalone(root string, defs map[string]any) ([]byte, error) {
	used := map[string]any{}
	var visit func(name string) error
	visit = func(name string) error {
		if _, ok := used[name]; ok {
			return nil
		}
		s, ok := defs[name]
		if !ok {
			return fmt.Errorf("schema %s not found", name)
		}
		used[name] = nil // mark before recursing (recursive types)
		var refs []string
		used[name] = transform(s, &refs)
		for _, r := range refs {
			if err := visit(r); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root); err != nil {
		return nil, err
	}
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$ref":    "#/$defs/" + root,
		"$defs":   used,
	}
	return json.MarshalIndent(doc, "", " ")
}

const refPrefix = "#/components/schemas/"

// transform rewrites an OpenAPI v3 schema node into JSON Schema: local refs,
// int-or-string, nullable, and no unknown properties (strict).
func transform(node any, refs *[]string) any {
	switch n := node.(type) {
	case []any:
		out := make([]any, len(n))
		for i, e := range n {
			out[i] = transform(e, refs)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, v := range n {
			if k == "default" || k == "example" || k == "description" {
				continue // values, not schemas
			}
			if k == "$ref" {
				if s, ok := v.(string); ok && strings.HasPrefix(s, refPrefix) {
					name := strings.TrimPrefix(s, refPrefix)
					*refs = append(*refs, name)
					out[k] = "#/$defs/" + name
					continue
				}
			}
			if k == "properties" {
				props := map[string]any{}
				for pk, pv := range v.(map[string]any) {
					props[pk] = transform(pv, refs)
				}
				out[k] = props
				continue
			}
			out[k] = transform(v, refs)
		}
		if n["x-kubernetes-int-or-string"] == true || n["format"] == "int-or-string" {
			delete(out, "type")
			delete(out, "format")
			out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
		}
		if n["nullable"] == true {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		_, hasProps := n["properties"]
		_, hasAdditional := n["additionalProperties"]
		if hasProps && !hasAdditional && n["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	default:
		return node
	}
}

// ---- strict decoding ---------------------------------------------------------

func strictDecode(files []string) error {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		return err
	}
	if err := monitoringv1.AddToScheme(s); err != nil {
		return err
	}
	decoder := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
	failed := 0
	total := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		reader := utilyaml.NewYAMLReader(bufioReader(data))
		for i := 1; ; i++ {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: document %d: %w", file, i, err)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			total++
			obj, kind, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				failed++
				fmt.Printf("%s: document %d: %v\n", file, i, err)
				continue
			}
			_ = obj
			fmt.Printf("%s: document %d: %s %s ok\n", file, i, kind.GroupVersion(), kind.Kind)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d documents failed strict decoding", failed, total)
	}
	fmt.Printf("k8s-validate: %d documents decode strictly\n", total)
	return nil
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
