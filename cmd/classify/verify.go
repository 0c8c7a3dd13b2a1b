package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
)

// verifyCmd checks every artifact of a registry against its manifest:
// `classify verify [-registry DIR]`. Each model is loaded the way a server
// loads it: checksums first (of the artifact and, for xgboost, its
// .meta.json), then parsing, so an artifact that matches its checksum but
// does not load fails too.
func verifyCmd(args []string, e env) error {
	fs := newFlagSet("verify", "verify [flags]\n\n"+
		"Checks every artifact of the registry against the sha256 in its manifest and loads it;\n"+
		"prints one line per model and exits 1 naming each file that fails.", e.stdout)
	var reg registryFlag
	reg.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("verify takes no arguments, got %q", pos[0])
	}
	r, err := reg.open("verify")
	if err != nil {
		return err
	}
	entries := r.Manifest().Models
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	var failed []string
	for _, m := range entries {
		files := m.File
		if m.MetaSHA256 != "" {
			files += ", " + m.File + ".meta.json"
		}
		if _, err := r.Load(m.Name); err != nil {
			failed = append(failed, m.Name)
			fmt.Fprintf(tw, "FAIL\t%s\t%s\n", m.Name, strings.TrimPrefix(err.Error(), "classify: "))
			continue
		}
		fmt.Fprintf(tw, "ok\t%s\t%s\tsha256 %s\n", m.Name, files, m.SHA256[:12])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("verify: %d of %d models in the %s failed: %s", len(failed), len(entries), reg.where(), strings.Join(failed, ", "))
	}
	if len(entries) == 0 {
		return errors.New("verify: the " + reg.where() + " lists no models")
	}
	fmt.Fprintf(e.stdout, "%d models verified in the %s\n", len(entries), reg.where())
	return nil
}
