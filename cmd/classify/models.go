package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ml-production-service/classify"
)

// modelsCmd lists a registry: `classify models [-registry DIR] [-json]`.
func modelsCmd(args []string, e env) error {
	fs := newFlagSet("models", "models [flags]\n\n"+
		"Lists the registry's models: name, kind, version, creation time, sha256 prefix,\n"+
		"features, classes and the metrics research measured.", e.stdout)
	var reg registryFlag
	reg.register(fs)
	asJSON := fs.Bool("json", false, "print the manifest's entries as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("models takes no arguments, got %q", pos[0])
	}
	r, err := reg.open("models")
	if err != nil {
		return err
	}
	entries := r.Manifest().Models
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if entries == nil {
			entries = []classify.Entry{}
		}
		return enc.Encode(entries)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tCREATED\tSHA256\tFEATURES\tCLASSES\tMETRICS")
	for _, m := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Kind, m.Version,
			m.Created.UTC().Format(time.DateOnly), m.SHA256[:12],
			strings.Join(m.Features, ","), strings.Join(m.Classes, ","), metrics(m.Metrics))
	}
	return tw.Flush()
}

// metrics summarises an entry's metrics: name method=value(±std); ...
func metrics(ms []classify.Metric) string {
	var parts []string
	for _, m := range ms {
		s := fmt.Sprintf("%s %s=%.4f", m.Name, m.Method, m.Value)
		if m.Std != nil {
			s += fmt.Sprintf("±%.4f", *m.Std)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}
