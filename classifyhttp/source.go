package classifyhttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/ml-production-service/classify"
)

// RegistrySource is a Source for a model registry. At each reload it calls
// open: pass a func returning classify.OpenRegistry(models.FS) for the
// registry embedded in the binary, or classify.OpenRegistryDir(dir) to see a
// directory's changes. Its catalog loads the model a variant names: the
// registry's entry of that name, or else the registry's only entry of the
// kind that name names ("xgboost" finds an entry "xgboost_v2" when it is
// the registry's only XGBoost model). Its Fingerprint is made of the named
// entries' checksums and versions, so a watch reloads when one of them
// changed. where names the registry in errors ("the embedded registry", a
// directory).
func RegistrySource(where string, open func() (*classify.Registry, error)) Source {
	return func() (*Catalog, error) {
		reg, err := open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		c := &Catalog{Registry: reg, Where: where}
		for _, e := range reg.Manifest().Models {
			c.Names = append(c.Names, e.Name)
		}
		c.Load = func(name string) (classify.Model, error) {
			e, err := resolve(c, name)
			if err != nil {
				return nil, err
			}
			return reg.Load(e.Name)
		}
		c.Fingerprint = func(names []string) string {
			var b strings.Builder
			for _, name := range names {
				if e, err := resolve(c, name); err == nil {
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

// resolve returns the entry of c's registry called name, or else its only
// entry of kind name.
func resolve(c *Catalog, name string) (classify.Entry, error) {
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
		classify.ErrNotFound, c.Where, name, strings.Join(c.Names, ", "))
}

// FileSource is a Source for a single model file of kind, which its
// catalog serves under the kind's name ("xgboost"), with, for XGBoost and
// LightGBM, the sidecar path+".meta.json" when there is one (as
// classify.New reads it).
// Each reload reads the files once, up to one byte more than the classify
// loaders take: the model it loads and the Fingerprint it reports (a digest
// of those bytes) come from the same read, so a file replaced in between
// is seen by the next ReloadIfChanged rather than taken for the model
// already serving.
func FileSource(kind classify.Kind, path string) Source {
	return func() (*Catalog, error) {
		c := &Catalog{Where: path, Names: []string{string(kind)}}
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
// errors: for XGBoost and LightGBM, the sidecar's names when there is one.
func (a artifactFiles) load(kind classify.Kind, path string) (classify.Model, error) {
	if a.model.openErr != nil {
		return nil, fmt.Errorf("classify: open %s model: %w", kind, a.model.openErr)
	}
	if kind != classify.XGBoost && kind != classify.LightGBM {
		return classify.Load(kind, a.model.reader())
	}
	metaPath := path + ".meta.json"
	if a.meta.openErr != nil && !errors.Is(a.meta.openErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("classify: %s: open meta: %w", kind, a.meta.openErr)
	}
	sidecar := a.meta.openErr == nil // no sidecar: the model's own names
	if kind == classify.LightGBM {
		var meta *classify.LightGBMMeta
		if sidecar {
			var err error
			if meta, err = classify.ReadLightGBMMeta(a.meta.reader()); err != nil {
				return nil, fmt.Errorf("%w (in %s)", err, metaPath)
			}
		}
		m, err := classify.LoadLightGBM(a.model.reader(), meta)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return m, nil
	}
	var meta *classify.XGBoostMeta
	if sidecar {
		var err error
		if meta, err = classify.ReadXGBoostMeta(a.meta.reader()); err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, metaPath)
		}
	}
	m, err := classify.LoadXGBoost(a.model.reader(), meta)
	if err != nil {
		return nil, err
	}
	return m, nil
}
