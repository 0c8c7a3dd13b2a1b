package classify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"
)

// Registry is a set of production models described by a manifest.json
// (classify/manifest v1, research/FORMATS.md) beside their artifacts. Load
// verifies an artifact's sha256 against the manifest before parsing it.
//
// The package does not embed a registry of its own: the production one is
// models.FS (package github.com/ml-production-service/classify/models), and
// callers pass it to OpenRegistry. Keeping the bytes out of the root package
// leaves programs that load their own models free of ours.
//
// A Registry is immutable after opening and safe for concurrent use; it
// reads artifacts from its fs.FS on each Load.
type Registry struct {
	fsys     fs.FS
	manifest Manifest
}

// Manifest is the registry's table of contents.
type Manifest struct {
	Format        string  `json:"format"`
	FormatVersion int     `json:"format_version"`
	Models        []Entry `json:"models"`
}

// Entry describes one production model.
type Entry struct {
	Name       string    `json:"name"`
	Kind       Kind      `json:"kind"`
	File       string    `json:"file"`
	SHA256     string    `json:"sha256"`
	MetaSHA256 string    `json:"meta_sha256,omitempty"` // xgboost, when it has a sidecar: of File+".meta.json"
	Version    string    `json:"version"`
	Created    time.Time `json:"created"`
	Features   []string  `json:"features"`
	Classes    []string  `json:"classes"`
	Metrics    []Metric  `json:"metrics"`
}

// Metric is one measurement research made of a model.
type Metric struct {
	Name   string   `json:"name"`   // e.g. "accuracy"
	Method string   `json:"method"` // e.g. "loocv"
	Value  float64  `json:"value"`
	Std    *float64 `json:"std,omitempty"`
	Source string   `json:"source"` // the results file it came from
}

// ManifestFile is the manifest's name at the root of a registry.
const ManifestFile = "manifest.json"

// OpenRegistry reads and validates the manifest at the root of fsys.
func OpenRegistry(fsys fs.FS) (*Registry, error) {
	f, err := fsys.Open(ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("classify: registry: %w", err)
	}
	defer f.Close()
	b, err := readAll(f, ManifestFile)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, err
	}
	return &Registry{fsys: fsys, manifest: m}, nil
}

// OpenRegistryDir opens the registry in directory dir.
func OpenRegistryDir(dir string) (*Registry, error) {
	return OpenRegistry(os.DirFS(dir))
}

func parseManifest(b []byte) (Manifest, error) {
	var m Manifest
	fail := func(format string, args ...any) (Manifest, error) {
		return Manifest{}, fmt.Errorf("%w: manifest: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if err := decodeStrict(b, &m); err != nil {
		return fail("%v", err)
	}
	if err := checkFormat(m.Format, m.FormatVersion, "classify/manifest", 1); err != nil {
		return fail("%v", err)
	}
	names := map[string]bool{}
	for i, e := range m.Models {
		if e.Name == "" {
			return fail("model %d has no name", i)
		}
		if names[e.Name] {
			return fail("model name %q appears twice", e.Name)
		}
		names[e.Name] = true
		if k, err := ParseKind(string(e.Kind)); err != nil || k != e.Kind {
			return fail("model %q: kind %q is not one of %v", e.Name, e.Kind, loadable())
		}
		if !fs.ValidPath(e.File) || e.File == "." || e.File != path.Clean(e.File) {
			return fail("model %q: file %q is not a plain relative path", e.Name, e.File)
		}
		if !isSHA256(e.SHA256) {
			return fail("model %q: sha256 %q is not 64 lowercase hex digits", e.Name, e.SHA256)
		}
		hasMeta := e.Kind == XGBoost || e.Kind == LightGBM
		if e.MetaSHA256 != "" && (!hasMeta || !isSHA256(e.MetaSHA256)) {
			if !hasMeta {
				return fail("model %q: meta_sha256 is for xgboost and lightgbm entries, not %s", e.Name, e.Kind)
			}
			return fail("model %q: meta_sha256 %q is not 64 lowercase hex digits", e.Name, e.MetaSHA256)
		}
		if _, err := indexNames("feature", e.Features); err != nil {
			return fail("model %q: %v", e.Name, err)
		}
		if _, err := indexNames("class", e.Classes); err != nil {
			return fail("model %q: %v", e.Name, err)
		}
	}
	return m, nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Manifest returns the registry's manifest. Its slices are shared and must
// not be modified.
func (r *Registry) Manifest() Manifest { return r.manifest }

// Entry returns the manifest entry of the model called name, or an error
// wrapping ErrNotFound that lists the names there are.
func (r *Registry) Entry(name string) (Entry, error) {
	for _, e := range r.manifest.Models {
		if e.Name == name {
			return e, nil
		}
	}
	names := make([]string, 0, len(r.manifest.Models))
	for _, e := range r.manifest.Models {
		names = append(names, e.Name)
	}
	return Entry{}, fmt.Errorf("%w: %q (registry has: %v)", ErrNotFound, name, names)
}

// readVerified reads file and checks its sha256.
func (r *Registry) readVerified(file, sum string) ([]byte, error) {
	f, err := r.fsys.Open(file)
	if err != nil {
		return nil, fmt.Errorf("classify: registry: %w", err)
	}
	defer f.Close()
	b, err := readAll(f, file)
	if err != nil {
		return nil, err
	}
	got := sha256.Sum256(b)
	if hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("%w: %s has sha256 %x, manifest says %s", ErrChecksum, file, got, sum)
	}
	return b, nil
}

// Verify checks every artifact's checksum without parsing it.
func (r *Registry) Verify() error {
	for _, e := range r.manifest.Models {
		if _, err := r.readVerified(e.File, e.SHA256); err != nil {
			return err
		}
		if e.MetaSHA256 != "" {
			if _, err := r.readVerified(e.File+".meta.json", e.MetaSHA256); err != nil {
				return err
			}
		}
	}
	return nil
}

// Load verifies and loads the model called name. The model's Info carries
// the entry's name and version, and its features and classes must be the
// manifest's.
func (r *Registry) Load(name string) (Model, error) {
	e, err := r.Entry(name)
	if err != nil {
		return nil, err
	}
	b, err := r.readVerified(e.File, e.SHA256)
	if err != nil {
		return nil, err
	}
	var meta sidecar
	if e.MetaSHA256 != "" { // an xgboost or lightgbm entry's sidecar; without one, names come from the model
		mb, err := r.readVerified(e.File+".meta.json", e.MetaSHA256)
		if err != nil {
			return nil, err
		}
		if e.Kind == LightGBM {
			meta.lgb, err = ReadLightGBMMeta(bytes.NewReader(mb))
		} else {
			meta.xgb, err = ReadXGBoostMeta(bytes.NewReader(mb))
		}
		if err != nil {
			return nil, err
		}
	}
	m, err := load(e.Kind, bytes.NewReader(b), meta)
	if err != nil {
		return nil, err
	}
	info := m.infoRef()
	if !slices.Equal(info.Features, e.Features) || !slices.Equal(info.Classes, e.Classes) {
		return nil, fmt.Errorf("%w: model %q: artifact has features %v and classes %v, manifest says %v and %v",
			ErrFormat, name, info.Features, info.Classes, e.Features, e.Classes)
	}
	info.Name, info.Version = e.Name, e.Version
	return m, nil
}
