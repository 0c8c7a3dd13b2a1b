package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/models"
)

// newFlagSet returns a flag set for a command whose -h prints synopsis,
// the flags and the exit statuses to out.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: classify %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), exitStatusHelp)
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (everything after "--" is positional), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// Parse prints its own message for a bad flag; keep it off the
		// output and report it once, as a usage error.
		out := fs.Output()
		fs.SetOutput(io.Discard)
		err := fs.Parse(args)
		fs.SetOutput(out)
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return nil, err
		}
		if err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// given reports which flags were set on the command line.
func given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// registryFlag selects a registry: a directory, or the embedded one.
type registryFlag struct{ dir string }

func (r *registryFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&r.dir, "registry", "", "a registry `DIR` (holding manifest.json) (default: the production registry embedded in the binary)")
}

// open opens the registry for command cmd, whose name its errors carry.
func (r *registryFlag) open(cmd string) (*classify.Registry, error) {
	var reg *classify.Registry
	var err error
	if r.dir == "" {
		reg, err = classify.OpenRegistry(models.FS)
	} else {
		if st, err := os.Stat(r.dir); err == nil && !st.IsDir() {
			return nil, fmt.Errorf("%s: %s is not a directory", cmd, r.where())
		}
		if err := notDirectory(cmd, r.where()+": "+classify.ManifestFile, filepath.Join(r.dir, classify.ManifestFile)); err != nil {
			return nil, err
		}
		reg, err = classify.OpenRegistryDir(r.dir)
	}
	if err != nil {
		return nil, libraryErr(cmd, r.where(), err, "registry: ")
	}
	return reg, nil
}

// where names the registry in messages.
func (r *registryFlag) where() string {
	if r.dir == "" {
		return "embedded registry"
	}
	return "registry " + r.dir
}

// modelFlags selects the model predict and eval use.
type modelFlags struct {
	registryFlag
	name     string
	artifact string
	kind     string
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.name, "model", "heuristic", "registry model `NAME` (see 'classify models')")
	m.registryFlag.register(fs)
	fs.StringVar(&m.artifact, "artifact", "", "load this artifact `PATH` instead of a registry model (needs -kind; no checksum)")
	fs.StringVar(&m.kind, "kind", "", "the artifact's `KIND`: "+kindNames())
}

// load loads the selected model for command cmd, an artifact file with
// newModel. set is the flags given on the command line.
func (m *modelFlags) load(cmd string, set map[string]bool, newModel func(classify.Kind, string) (classify.Model, error)) (classify.Model, error) {
	if m.artifact == "" {
		if set["kind"] {
			return nil, usagef("-kind goes with -artifact")
		}
		reg, err := m.open(cmd)
		if err != nil {
			return nil, err
		}
		if err := m.entryNotDirectory(cmd, reg); err != nil {
			return nil, err
		}
		model, err := reg.Load(m.name)
		if errors.Is(err, classify.ErrNotFound) {
			return nil, usagef("-model: %v", strings.TrimPrefix(err.Error(), "classify: "))
		}
		if err != nil {
			return nil, libraryErr(cmd, m.where()+": model "+m.name, err)
		}
		return model, nil
	}
	if set["model"] || set["registry"] {
		return nil, usagef("-artifact loads one file: leave out -model and -registry")
	}
	if m.kind == "" {
		return nil, usagef("-artifact needs -kind (%s)", kindNames())
	}
	kind, err := classify.ParseKind(m.kind)
	if err != nil {
		return nil, usagef("-kind: %v", strings.TrimPrefix(err.Error(), "classify: "))
	}
	if err := notDirectory(cmd, "-artifact "+m.artifact, m.artifact); err != nil {
		return nil, err
	}
	model, err := newModel(kind, m.artifact)
	if err != nil {
		return nil, libraryErr(cmd, "-artifact "+m.artifact, err)
	}
	return model, nil
}

// entryNotDirectory returns an error when a file of the -model entry of a
// registry directory (its artifact, an xgboost entry's sidecar) is a
// directory.
func (m *modelFlags) entryNotDirectory(cmd string, reg *classify.Registry) error {
	e, err := reg.Entry(m.name)
	if m.dir == "" || err != nil {
		return nil // the embedded registry holds files; reg.Load reports a name not found
	}
	files := []string{e.File}
	if e.MetaSHA256 != "" {
		files = append(files, e.File+".meta.json")
	}
	for _, f := range files {
		if err := notDirectory(cmd, m.where()+": model "+m.name+": "+f, filepath.Join(m.dir, filepath.FromSlash(f))); err != nil {
			return err
		}
	}
	return nil
}

func kindNames() string {
	var names []string
	for _, k := range classify.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}
