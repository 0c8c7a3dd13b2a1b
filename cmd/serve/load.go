package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/classifyhttp"
	"github.com/ml-production-service/classify/models"
	"github.com/ml-production-service/classify/rollout"
)

// source re-opens where the models come from, for the first load and for
// every reload: the production registry embedded in the binary, a registry
// directory, or a single artifact file.
type source func() (*catalog, error)

// catalog is a source as it is now. Its Load returns the model called
// name: in a registry, the entry of that name, or else the only entry of
// that kind; for a file, the artifact, when name is its kind. Its
// Fingerprint identifies the artifacts of the named models, so the watch
// sees when one changed.
type catalog struct {
	classifyhttp.Catalog
	where string
	names []string // the models it holds
}

// forHandler is src as the handler takes it.
func (src source) forHandler() classifyhttp.Source {
	return func() (*classifyhttp.Catalog, error) {
		c, err := src()
		if err != nil {
			return nil, err
		}
		return &c.Catalog, nil
	}
}

// registryError is a registry that could not be opened at all.
type registryError struct{ err error }

func (e *registryError) Error() string { return e.err.Error() }
func (e *registryError) Unwrap() error { return e.err }

// newSource returns the source the configuration names. With no model path
// it is the production registry embedded in the binary; a directory path is
// a registry on disk; any other path is a single artifact of the kind
// MPS_MODEL_TYPE names.
func newSource(cfg config) (source, error) {
	if cfg.modelPath == "" {
		return registrySource("the embedded registry", func() (*classify.Registry, error) {
			return classify.OpenRegistry(models.FS)
		}), nil
	}
	pathName := cfg.source["model-path"]
	fi, err := os.Stat(cfg.modelPath)
	if err != nil {
		allowed := "use a registry directory holding " + classify.ManifestFile + ", or a model file"
		if errors.Is(err, fs.ErrNotExist) {
			allowed = "no such file or directory; " + allowed
		}
		return nil, &configError{pathName, cfg.modelPath, allowed}
	}
	if fi.IsDir() {
		if _, err := os.Stat(cfg.modelPath + "/" + classify.ManifestFile); err != nil {
			return nil, &configError{pathName, cfg.modelPath, "the directory holds no " + classify.ManifestFile + "; use a registry directory or a model file"}
		}
		dir := cfg.modelPath
		return registrySource(dir, func() (*classify.Registry, error) { return classify.OpenRegistryDir(dir) }), nil
	}
	arms := cfg.split.Arms()
	typeName := cfg.source["model-type"]
	if len(arms) != 1 {
		return nil, &configError{typeName, cfg.modelTypeRaw, "a split needs a registry, and " + pathName + " names a single file"}
	}
	kind, err := classify.ParseKind(arms[0].Name)
	if err != nil {
		return nil, &configError{typeName, cfg.modelTypeRaw, "use one of " + kindList()}
	}
	return fileSource(kind, cfg.modelPath), nil
}

func registrySource(where string, open func() (*classify.Registry, error)) source {
	return func() (*catalog, error) {
		reg, err := open()
		if err != nil {
			return nil, &registryError{fmt.Errorf("%s: %w", where, err)}
		}
		c := &catalog{Catalog: classifyhttp.Catalog{Registry: reg}, where: where}
		for _, e := range reg.Manifest().Models {
			c.names = append(c.names, e.Name)
		}
		c.Load = func(name string) (classify.Model, error) {
			e, err := c.resolve(name)
			if err != nil {
				return nil, err
			}
			return reg.Load(e.Name)
		}
		c.Fingerprint = func(names []string) string {
			var b strings.Builder
			for _, name := range names {
				if e, err := c.resolve(name); err == nil {
					fmt.Fprintf(&b, "%s=%s/%s/%s/%s;", name, e.Name, e.Version, e.SHA256, e.MetaSHA256)
				} else {
					fmt.Fprintf(&b, "%s=?;", name)
				}
			}
			return b.String()
		}
		return c, nil
	}
}

// resolve returns the registry entry called name, or else the only entry
// of kind name.
func (c *catalog) resolve(name string) (classify.Entry, error) {
	e, err := c.Registry.Entry(name)
	if err == nil {
		return e, nil
	}
	var ofKind []classify.Entry
	for _, e := range c.Registry.Manifest().Models {
		if string(e.Kind) == name {
			ofKind = append(ofKind, e)
		}
	}
	if len(ofKind) == 1 {
		return ofKind[0], nil
	}
	return classify.Entry{}, fmt.Errorf("%w: %s has no model named %q or of that kind (models: %s)",
		classify.ErrNotFound, c.where, name, strings.Join(c.names, ", "))
}

func fileSource(kind classify.Kind, path string) source {
	return func() (*catalog, error) {
		c := &catalog{where: path, names: []string{string(kind)}}
		// The files are read once, when first needed: the fingerprint and
		// every load see the same bytes, so what a reload records as
		// loaded is what serves, even when the file is replaced meanwhile.
		read := sync.OnceValue(func() artifactFiles { return readArtifactFiles(path) })
		c.Load = func(name string) (classify.Model, error) {
			if name != string(kind) {
				return nil, fmt.Errorf("%w: %q (%s holds one %s model)", classify.ErrNotFound, name, path, kind)
			}
			m, err := read().load(kind, path)
			if err != nil {
				return nil, fmt.Errorf("load %s model from %s: %w", kind, path, err)
			}
			return m, nil
		}
		c.Fingerprint = func([]string) string { return read().sum }
		return c, nil
	}
}

// maxArtifactBytes bounds what is read of an artifact file: one byte more
// than the classify loaders take, so that they refuse a larger file as
// they would refuse it from disk.
const maxArtifactBytes = 64<<20 + 1

// fileRead is a file's bytes as read once: up to maxArtifactBytes, and
// the error that stopped the opening or the read, if any.
type fileRead struct {
	data             []byte
	openErr, readErr error
}

func readFile(path string) fileRead {
	f, err := os.Open(path)
	if err != nil {
		return fileRead{openErr: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxArtifactBytes))
	return fileRead{data: data, readErr: err}
}

// reader replays the read: the bytes, then its error.
func (r fileRead) reader() io.Reader {
	if r.readErr == nil {
		return bytes.NewReader(r.data)
	}
	return io.MultiReader(bytes.NewReader(r.data), errorReader{r.readErr})
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// artifactFiles are a single artifact and its optional sidecar
// (path+".meta.json") as read once, with the fingerprint of those bytes.
type artifactFiles struct {
	model, meta fileRead
	sum         string
}

func readArtifactFiles(path string) artifactFiles {
	a := artifactFiles{model: readFile(path), meta: readFile(path + ".meta.json")}
	h := sha256.New()
	for _, r := range []fileRead{a.model, a.meta} {
		if r.openErr == nil && r.readErr == nil {
			h.Write(r.data)
		}
		h.Write([]byte{0})
	}
	a.sum = hex.EncodeToString(h.Sum(nil))
	return a
}

// load parses the bytes read as classify.New parses the files, with its
// errors: for XGBoost, the sidecar's names when there is one.
func (a artifactFiles) load(kind classify.Kind, path string) (classify.Model, error) {
	if a.model.openErr != nil {
		return nil, fmt.Errorf("classify: open %s model: %w", kind, a.model.openErr)
	}
	if kind != classify.XGBoost {
		return classify.Load(kind, a.model.reader())
	}
	var meta *classify.XGBoostMeta
	switch {
	case errors.Is(a.meta.openErr, fs.ErrNotExist): // no sidecar: the model's own names
	case a.meta.openErr != nil:
		return nil, fmt.Errorf("classify: xgboost: open meta: %w", a.meta.openErr)
	default:
		var err error
		if meta, err = classify.ReadXGBoostMeta(a.meta.reader()); err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, path+".meta.json")
		}
	}
	b, err := classify.LoadXGBoost(a.model.reader(), meta)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// loadRouter loads the split's variants from the source for the first
// time, and the shadow model if one is named. A name the source does not
// hold is a configuration error.
func loadRouter(cfg config, src source) (*rollout.Router, *rollout.Live, *catalog, error) {
	cat, err := src()
	if err != nil {
		return nil, nil, nil, err
	}
	typeName := cfg.source["model-type"]
	router, err := rollout.LoadRouter(cfg.split, cat.Load, nil)
	if err != nil {
		var re *rollout.ReloadError
		if errors.As(err, &re) && errors.Is(err, classify.ErrNotFound) && cat.Registry != nil {
			return nil, nil, nil, &configError{typeName, cfg.modelTypeRaw, fmt.Sprintf(
				"%s has no model named %q or of that kind; use one of %s, or a split of them such as decision_tree=90,xgboost=10",
				cat.where, re.Variant, strings.Join(cat.names, ", "))}
		}
		if errors.As(err, &re) && re.Phase == rollout.PhaseFeatures {
			return nil, nil, nil, &configError{typeName, cfg.modelTypeRaw, "every variant of a split must take the same features: " + re.Err.Error()}
		}
		return nil, nil, nil, fmt.Errorf("load from %s: %w", cat.where, err)
	}
	if cfg.shadowModel == "" {
		return router, nil, cat, nil
	}
	shadowName := cfg.source["shadow-model"]
	m, err := cat.Load(cfg.shadowModel)
	if errors.Is(err, classify.ErrNotFound) {
		return nil, nil, nil, &configError{shadowName, cfg.shadowModel, fmt.Sprintf("%s has no model of that name or kind; use one of %s",
			cat.where, strings.Join(cat.names, ", "))}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load shadow model %q from %s: %w", cfg.shadowModel, cat.where, err)
	}
	// Same features as the served models: a configuration error, named as
	// such; then Live.Reload's warm-up proves the challenger answers.
	primary := router.Variants()[0].Model().Info().Features
	if got := m.Info().Features; !slices.Equal(got, primary) {
		return nil, nil, nil, &configError{shadowName, cfg.shadowModel, fmt.Sprintf("the shadow model takes features %v, the served ones %v", got, primary)}
	}
	challenger := &rollout.Live{}
	if _, err := challenger.Reload(func() (classify.Model, error) { return m, nil }, nil); err != nil {
		return nil, nil, nil, fmt.Errorf("shadow model %q: %w", cfg.shadowModel, err)
	}
	return router, challenger, cat, nil
}
