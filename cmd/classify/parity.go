package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ml-production-service/classify"
	"github.com/ml-production-service/classify/internal/golden"
)

// maxFailuresShown bounds the failing cases verify-parity lists; the
// summary counts them all.
const maxFailuresShown = 20

// verifyParityCmd checks an artifact against a parity file (classify/golden
// v1 or v2): `classify verify-parity [-kind K] [-tolerance T] [-model
// ARTIFACT] PARITY.json`.
func verifyParityCmd(args []string, e env) error {
	fs := newFlagSet("verify-parity", "verify-parity [-kind K] [-tolerance T] [-model ARTIFACT] PARITY.json\n\n"+
		"Loads an artifact and predicts every case of PARITY.json (classify/golden v1 or v2, as\n"+
		"an exporter writes it beside the artifact): labels must be the reference library's on\n"+
		"every case and probabilities within the tolerance, and the artifact's sha256 the one the\n"+
		"file names. Prints a summary and the failing cases (the first 20), and exits 1 on any\n"+
		"failure. The artifact is the file's \"artifact\" (relative to PARITY.json) unless -model\n"+
		"names one; the kind is the file's \"kind\" unless it has none, then -kind. An xgboost\n"+
		"artifact reads its feature and class names from ARTIFACT.meta.json beside it.", e.stdout)
	kindFlag := fs.String("kind", "", "the artifact's `KIND` when the parity file names none: "+kindNames())
	tolFlag := fs.Float64("tolerance", 0, "the largest probability difference `T` that passes (default: the file's tolerance, else 1e-9, or 1e-6 for xgboost)")
	modelFlag := fs.String("model", "", "the `ARTIFACT` file to check (default: the parity file's artifact, relative to it)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("verify-parity takes one parity file, got %d", len(pos))
	}
	set := given(fs)
	path := pos[0]
	if err := notDirectory("verify-parity", path, path); err != nil {
		return err
	}
	f, err := golden.ReadFile(path)
	if err != nil {
		return err
	}

	kind := f.Kind
	if set["kind"] {
		k, err := classify.ParseKind(*kindFlag)
		if err != nil {
			return usagef("-kind: %v", strings.TrimPrefix(err.Error(), "classify: "))
		}
		if kind != "" && k != kind {
			return usagef("-kind %s, but %s is for a %s model", k, path, kind)
		}
		kind = k
	}
	if kind == "" {
		return usagef("%s names no kind: give -kind (%s)", path, kindNames())
	}
	artifact, artifactWhat := *modelFlag, "-model "+*modelFlag
	if artifact == "" {
		if f.Artifact == "" {
			return usagef("%s names no artifact: give -model ARTIFACT", path)
		}
		artifact = filepath.Join(filepath.Dir(path), filepath.FromSlash(f.Artifact))
		artifactWhat = "the parity file's artifact " + artifact
	}
	tol, tolFrom := golden.DefaultTolerance(kind), "the default for "+string(kind)
	switch {
	case set["tolerance"]:
		if !(*tolFlag >= 0) || math.IsInf(*tolFlag, 0) {
			return usagef("-tolerance %v: use a number from 0 up", *tolFlag)
		}
		tol, tolFrom = *tolFlag, "-tolerance"
	case f.Tolerance != nil:
		tol, tolFrom = *f.Tolerance, "the parity file's"
	}

	if err := notDirectory("verify-parity", artifactWhat, artifact); err != nil {
		return err
	}
	sum, err := fileSHA256(artifact)
	if err != nil {
		return err
	}
	m, err := e.newModel(kind, artifact)
	if err != nil {
		return fmt.Errorf("verify-parity: %s", strings.TrimPrefix(err.Error(), "classify: "))
	}
	r, err := golden.Check(m, f, tol)
	if err != nil {
		return fmt.Errorf("verify-parity: %s: %v", path, strings.TrimPrefix(err.Error(), "golden: "))
	}
	shaOK := f.ArtifactSHA256 == "" || f.ArtifactSHA256 == sum
	info := m.Info()

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "parity file\t%s (%s v%d)\n", path, golden.Format, f.FormatVersion)
	switch {
	case f.ArtifactSHA256 == "":
		fmt.Fprintf(tw, "artifact\t%s (%s), sha256 %s (the parity file names none)\n", artifact, kind, sum[:12])
	case shaOK:
		fmt.Fprintf(tw, "artifact\t%s (%s), sha256 %s as the parity file says\n", artifact, kind, sum[:12])
	default:
		fmt.Fprintf(tw, "artifact\t%s (%s), sha256 %s, but the parity file is for %s\n", artifact, kind, sum[:12], f.ArtifactSHA256[:12])
	}
	fmt.Fprintf(tw, "reference\t%s\n", f.Reference)
	cases := fmt.Sprint(r.Cases)
	if n := f.MissingCases(); n > 0 {
		takes := "the model takes them"
		if !info.Missing {
			takes = "the model refuses them"
		}
		cases += fmt.Sprintf(" (%d with missing values; %s)", n, takes)
	}
	fmt.Fprintf(tw, "cases\t%s\n", cases)
	fmt.Fprintf(tw, "label mismatches\t%d\n", len(r.Mismatches))
	if len(r.Refused) > 0 {
		fmt.Fprintf(tw, "refused\t%d\n", len(r.Refused))
	}
	if len(r.BatchDiffs) > 0 {
		fmt.Fprintf(tw, "batch differs\t%d (PredictBatch unlike Predict)\n", len(r.BatchDiffs))
	}
	diff := "- (no case answered)"
	switch {
	case r.MaxDiffCase >= 0 && r.MaxDiff == 0:
		diff = "0"
	case r.MaxDiffCase >= 0:
		diff = fmt.Sprintf("%.3g (case %s", r.MaxDiff, f.Cases[r.MaxDiffCase].Name)
		if r.MaxDiffClass >= 0 {
			diff += ", class " + f.Classes[r.MaxDiffClass]
		}
		diff += ")"
	}
	fmt.Fprintf(tw, "largest probability difference\t%s\n", diff)
	fmt.Fprintf(tw, "tolerance\t%g (%s)\n", tol, tolFrom)
	ok := r.OK() && shaOK
	result := "ok"
	if !ok {
		result = "FAIL"
	}
	fmt.Fprintf(tw, "result\t%s\n", result)
	if err := tw.Flush(); err != nil {
		return err
	}
	if failures := r.Failures(); len(failures) > 0 {
		fmt.Fprintf(e.stdout, "\nfailing cases (%d", len(failures))
		if len(failures) > maxFailuresShown {
			fmt.Fprintf(e.stdout, ", the first %d shown", maxFailuresShown)
			failures = failures[:maxFailuresShown]
		}
		fmt.Fprintln(e.stdout, "):")
		for _, fl := range failures {
			if fl.Err != nil && !fl.Batch { // the feature named, as predict names it
				fmt.Fprintf(e.stdout, "  %s: refused: %s\n", fl.Name, predictError(fl.Err, f.Features))
				continue
			}
			fmt.Fprintf(e.stdout, "  %s\n", fl)
		}
	}
	if ok {
		return nil
	}
	var why []string
	if !shaOK {
		why = append(why, "the artifact is not the one the parity file was written for")
	}
	if n := len(r.Mismatches); n > 0 {
		why = append(why, plural(n, "label mismatch", "label mismatches"))
	}
	if n := len(r.Refused); n > 0 {
		why = append(why, plural(n, "case", "cases")+" refused")
	}
	if n := len(r.BatchDiffs); n > 0 {
		why = append(why, plural(n, "case", "cases")+" where PredictBatch differs from Predict")
	}
	if !(r.MaxDiff <= tol) {
		why = append(why, fmt.Sprintf("a probability difference of %.3g, beyond the tolerance %g", r.MaxDiff, tol))
	}
	return fmt.Errorf("verify-parity: %s: %s", path, strings.Join(why, "; "))
}

// plural says "1 case", "2 cases".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fileSHA256 returns the hex sha256 of the file at path.
func fileSHA256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
