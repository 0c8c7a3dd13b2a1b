package classify

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
)

// Kind names a model family. The zero value is not a valid kind.
type Kind string

// The model kinds this package loads.
const (
	Heuristic    Kind = "heuristic"     // first-matching rule list (JSON), Iris rules built in
	DecisionTree Kind = "decision_tree" // scikit-learn DecisionTreeClassifier dump (JSON)
	RandomForest Kind = "random_forest" // scikit-learn RandomForestClassifier dump (JSON)
	XGBoost      Kind = "xgboost"       // XGBoost model (JSON, UBJSON or binary)

	LightGBM             Kind = "lightgbm"               // LightGBM text model (v2 to v4), with its classify/lightgbm-meta sidecar
	HistGradientBoosting Kind = "hist_gradient_boosting" // scikit-learn HistGradientBoostingClassifier dump (JSON)
	GradientBoosting     Kind = "gradient_boosting"      // scikit-learn GradientBoostingClassifier dump (JSON)
)

// Kinds returns every kind of model classify loads and serves (the
// library, cmd/serve, cmd/classify), in a stable order.
func Kinds() []Kind {
	return []Kind{Heuristic, DecisionTree, RandomForest, XGBoost, LightGBM, HistGradientBoosting, GradientBoosting}
}

// loadable returns every kind the library loads.
func loadable() []Kind { return Kinds() }

// ParseKind returns the Kind named s, any kind the library loads (Kinds
// and the boosting kinds). Names are matched exactly after trimming
// surrounding spaces and lower-casing; an unknown name yields an error
// wrapping ErrUnknownKind that lists the valid names.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range loadable() {
		if k == v {
			return k, nil
		}
	}
	return "", unknownKind(s)
}

func unknownKind(s string) error {
	names := make([]string, 0, 8)
	for _, v := range loadable() {
		names = append(names, string(v))
	}
	return fmt.Errorf("%w %q (valid: %s)", ErrUnknownKind, s, strings.Join(names, ", "))
}

// Sentinel errors. Callers branch on them with errors.Is; the messages of the
// errors that wrap them say what exactly was wrong.
var (
	// ErrUnknownKind: a kind name that is not one of Kinds.
	ErrUnknownKind = errors.New("classify: unknown model kind")
	// ErrFormat: an artifact could not be parsed or failed validation.
	ErrFormat = errors.New("classify: invalid model artifact")
	// ErrInput: a row has the wrong length or holds NaN (for a model whose
	// Info().Missing is false), an infinity or a value the model's
	// reference library rejects; or a batch's slices have the wrong lengths.
	ErrInput = errors.New("classify: invalid input")
	// ErrFeature: named features did not match the model's schema.
	ErrFeature = errors.New("classify: features do not match the model")
	// ErrChecksum: an artifact's sha256 differs from its manifest entry.
	ErrChecksum = errors.New("classify: checksum mismatch")
	// ErrNotFound: a registry has no model of that name.
	ErrNotFound = errors.New("classify: model not found")
	// ErrInternal: a model failed on a row it had accepted (the prediction
	// library underneath refused it). The fault is this package's, not the
	// caller's: a server answers it as a server error, not a bad request.
	ErrInternal = errors.New("classify: internal error")
)

// Info describes a loaded model. Features and Classes give the order of a
// row's values and of a prediction's probabilities. Name and Version are set
// when a model is loaded through a Registry and empty otherwise. The slices
// are shared with the model and must not be modified.
type Info struct {
	Kind     Kind
	Name     string
	Version  string
	Features []string
	Classes  []string
	// Missing reports whether the model takes NaN as a missing value and
	// routes it as its reference library does (every XGBoost model;
	// scikit-learn trees exported with their missing-value directions).
	// When it is false, a NaN in a row is refused with ErrInput.
	Missing bool
}

// Prediction is the answer for one row.
type Prediction struct {
	Class         int       // index into Info().Classes
	Label         string    // Info().Classes[Class]
	Probabilities []float64 // one per class, in Info().Classes order
}

// Model is a loaded classifier. Every Model in this package is immutable
// after loading and safe for concurrent use by multiple goroutines.
type Model interface {
	// Info describes the model: kind, name, version, feature and class names.
	Info() Info

	// Predict classifies one row, whose values follow Info().Features.
	// Probabilities are written into proba when it has room for one per
	// class (the returned Prediction's Probabilities is then proba[:classes])
	// and into a new slice otherwise: a caller that passes a buffer
	// allocates nothing. A row of the wrong length, or holding NaN (unless
	// Info().Missing), an infinity or a value the reference library
	// rejects, gives an error wrapping ErrInput.
	Predict(row []float64, proba []float64) (Prediction, error)

	// PredictBatch classifies len(classes) rows stored back to back in rows
	// (row-major, len(rows) == len(classes)*len(Features)), writing each
	// row's class index into classes and, when proba is not nil, its
	// probabilities into proba (len(proba) == len(classes)*len(Classes)).
	// It stops at the first invalid row with an error naming its index.
	PredictBatch(rows []float64, classes []int, proba []float64) error
}

// maxArtifactBytes bounds what a loader reads, so a hostile or corrupt file
// cannot make it allocate without limit. The production artifacts are a few
// hundred KiB at most.
const maxArtifactBytes = 64 << 20

// New loads a model of the given kind from the file at path. For Heuristic an
// empty path gives the built-in Iris rules. For XGBoost and LightGBM,
// feature and class names are read from the sidecar path+".meta.json" when
// it exists, and from the model itself otherwise (see LoadXGBoost and
// LoadLightGBM; classify-export writes one beside every LightGBM model). Most
// programs that serve production models want Registry.Load instead, which
// also verifies checksums.
func New(kind Kind, path string) (Model, error) {
	kind, err := ParseKind(string(kind))
	if err != nil {
		return nil, err
	}
	if path == "" {
		if kind == Heuristic {
			return IrisRules(), nil
		}
		return nil, fmt.Errorf("classify: %s needs a model file path", kind)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("classify: open %s model: %w", kind, err)
	}
	defer f.Close()
	var meta sidecar
	switch kind {
	case XGBoost:
		meta.xgb, err = readSidecar(path+".meta.json", kind, ReadXGBoostMeta)
	case LightGBM:
		meta.lgb, err = readSidecar(path+".meta.json", kind, ReadLightGBMMeta)
	}
	if err != nil {
		return nil, err
	}
	m, err := load(kind, f, meta)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads a model of the given kind from r. It takes the names New
// takes: kind is matched as ParseKind matches it (surrounding spaces
// trimmed, lower-cased), and an unknown one gives ParseKind's error,
// wrapping ErrUnknownKind. XGBoost and LightGBM models read this way get
// the names the model stores, or generic ones; use LoadXGBoost or
// LoadLightGBM to give names.
func Load(kind Kind, r io.Reader) (Model, error) {
	kind, err := ParseKind(string(kind))
	if err != nil {
		return nil, err
	}
	m, err := load(kind, r, sidecar{})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// sidecar is the names a model's sidecar gives, for the kinds that have
// one; nil when there is none.
type sidecar struct {
	xgb *XGBoostMeta
	lgb *LightGBMMeta
}

// readSidecar reads the meta sidecar of a kind's model at path with read;
// a missing file gives nil, nil (the model then gets the names it stores,
// or generic ones).
func readSidecar[M any](path string, kind Kind, read func(io.Reader) (*M, error)) (*M, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("classify: %s: open meta: %w", kind, err)
	}
	defer f.Close()
	meta, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return meta, nil
}

// loaded is a model as a loader returns it, whose Info the registry names
// before handing it out.
type loaded interface {
	Model
	infoRef() *Info
}

func (m *Rules) infoRef() *Info   { return &m.info }
func (m *Tree) infoRef() *Info    { return &m.info }
func (m *Forest) infoRef() *Info  { return &m.info }
func (m *Booster) infoRef() *Info { return &m.info }
func (m *Boosted) infoRef() *Info { return &m.info }

// load dispatches on kind. It returns a nil interface, never a typed nil
// pointer, with an error.
func load(kind Kind, r io.Reader, meta sidecar) (loaded, error) {
	var (
		m   loaded
		err error
	)
	switch kind {
	case Heuristic:
		m, err = LoadRules(r)
	case DecisionTree:
		m, err = LoadDecisionTree(r)
	case RandomForest:
		m, err = LoadRandomForest(r)
	case XGBoost:
		m, err = LoadXGBoost(r, meta.xgb)
	case LightGBM:
		m, err = LoadLightGBM(r, meta.lgb)
	case HistGradientBoosting:
		m, err = LoadHistGradientBoosting(r)
	case GradientBoosting:
		m, err = LoadGradientBoosting(r)
	default:
		err = unknownKind(string(kind))
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// readAll reads r whole, refusing more than maxArtifactBytes. When r can
// tell its size (a file's Stat, a bytes.Reader's Len) the buffer starts at
// that size, as os.ReadFile's does: io.ReadAll's growing took a tenth of
// a large model's load. The size is only a hint; what is read is what
// counts.
func readAll(r io.Reader, what string) ([]byte, error) {
	hint := int64(512)
	switch s := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			hint = fi.Size()
		}
	case interface{ Len() int }:
		hint = int64(s.Len())
	}
	b := make([]byte, 0, min(max(hint, 0), maxArtifactBytes)+1)
	lr := io.LimitReader(r, maxArtifactBytes+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("classify: read %s: %w", what, err)
		}
	}
	if len(b) > maxArtifactBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFormat, what, maxArtifactBytes)
	}
	return b, nil
}

// checkRow validates one row for a model with n features. When
// float32Input is true, values that overflow float32 are refused too, as
// scikit-learn and XGBoost refuse them; when missing is true, NaN is taken
// (a missing value) and only infinities and overflows are refused.
// Prediction paths call rowOK, which inlines where checkRow does not, and
// build the error with rowError only for a bad row; checkRow is the
// one-call form for everything else.
func checkRow(row []float64, n int, float32Input, missing bool) error {
	if rowOK(row, n, float32Input, missing) {
		return nil
	}
	return rowError(row, n, float32Input, missing)
}

// rowOK reports whether row has n values, each finite (and within float32's
// range when float32Input is true) or, when missing is true, NaN.
func rowOK(row []float64, n int, float32Input, missing bool) bool {
	limit := math.MaxFloat64
	if float32Input {
		limit = math.MaxFloat32
	}
	if len(row) != n {
		return false
	}
	for _, v := range row {
		if !(math.Abs(v) <= limit) && !(missing && v != v) { // NaN fails the first test
			return false
		}
	}
	return true
}

// firstBadRow returns the index of the first of rows lo..hi-1 (nf values
// each, back to back in rows) that rowOK refuses, or hi when none is:
// the row check of a block of a batch (Boosted.PredictBatch and
// contribution.batch).
func firstBadRow(rows []float64, lo, hi, nf int, float32Input, missing bool) int {
	for r := lo; r < hi; r++ {
		if !rowOK(rows[r*nf:(r+1)*nf], nf, float32Input, missing) {
			return r
		}
	}
	return hi
}

// batchRowError is the error of a batch stopped at row r, which rowOK
// refused, prefixed with prefix ("classify: <kind>: ").
func batchRowError(prefix string, rows []float64, r, nf int, float32Input, missing bool) error {
	return fmt.Errorf("%srow %d: %w", prefix, r, rowError(rows[r*nf:(r+1)*nf], nf, float32Input, missing))
}

// rowError says why rowOK refused a row.
func rowError(row []float64, n int, float32Input, missing bool) error {
	e := &InputError{Feature: -1, Got: len(row), Want: n, Limit: math.MaxFloat64}
	if float32Input {
		e.Limit = math.MaxFloat32
	}
	if len(row) != n {
		return e
	}
	i := 0 // the first bad value
	for i < len(row)-1 && (math.Abs(row[i]) <= e.Limit || missing && math.IsNaN(row[i])) {
		i++
	}
	e.Feature, e.Value = i, row[i]
	return e
}

// InputError is a row a model refused: the wrong length (Feature is -1), or
// a value that is NaN, infinite or beyond Limit, the largest magnitude the
// model takes (math.MaxFloat32 for the tree models, whose reference
// libraries compute in float32; math.MaxFloat64 for rules). It matches
// ErrInput with errors.Is, and errors.As finds it inside a batch's
// "row N: ..." error too.
type InputError struct {
	Feature   int     // index of the first refused value, -1 for a wrong length
	Value     float64 // the refused value
	Limit     float64 // the largest magnitude the model takes
	Got, Want int     // the row's length and the model's feature count
}

func (e *InputError) Error() string {
	switch {
	case e.Feature < 0:
		return fmt.Sprintf("%v: row has %d values, model takes %d", ErrInput, e.Got, e.Want)
	case math.IsNaN(e.Value) || math.IsInf(e.Value, 0):
		return fmt.Sprintf("%v: feature %d is %v", ErrInput, e.Feature, e.Value)
	}
	return fmt.Sprintf("%v: feature %d is %v, too large for float32", ErrInput, e.Feature, e.Value)
}

// Is reports whether target is ErrInput.
func (e *InputError) Is(target error) bool { return target == ErrInput }

// probaBuffer returns proba[:k] when it has room and a new slice otherwise.
func probaBuffer(proba []float64, k int) []float64 {
	if cap(proba) >= k {
		return proba[:k]
	}
	return make([]float64, k)
}

// checkBatch validates the shapes of a PredictBatch call.
func checkBatch(rows []float64, classes []int, proba []float64, nf, nc int) error {
	n := len(classes)
	if len(rows) != n*nf {
		return fmt.Errorf("%w: batch of %d rows needs %d values, got %d", ErrInput, n, n*nf, len(rows))
	}
	if proba != nil && len(proba) != n*nc {
		return fmt.Errorf("%w: batch of %d rows needs %d probabilities, got %d", ErrInput, n, n*nc, len(proba))
	}
	return nil
}

// argmax returns the index of the largest value, the first one on ties, as
// numpy.argmax does.
func argmax(p []float64) int {
	best := 0
	for i := 1; i < len(p); i++ {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}
