// Command classify scores files with classify models, evaluates them on
// labelled data and inspects a model registry, with no Go to write.
//
//	classify predict [flags] [FILE]   score a CSV or JSON Lines file (stdin without FILE)
//	classify eval    [flags] [FILE]   accuracy and confusion matrix on a labelled file
//	classify explain [flags] [FILE]   each row's feature contributions (tree models)
//	classify importance [flags] [FILE]
//	                                  a tree model's importances; with FILE, mean |contribution| over its rows
//	classify models  [flags]          list the registry's models
//	classify verify  [flags]          check every artifact of the registry against its checksum
//	classify verify-parity [-kind K] [-tolerance T] [-model ARTIFACT] PARITY.json
//	                                  check an artifact against its reference library's answers
//	classify tree    [flags]          draw a tree model: -tree I -format svg|dot, or -format html (its page)
//
// Run `classify COMMAND -h` for a command's flags. Flags may come before or
// after the file name.
//
// # Models
//
// predict and eval load the model named by -model (default heuristic) from
// the production registry embedded in the binary, or from the registry
// directory given by -registry (a directory holding manifest.json); either
// way the artifact's sha256 is checked against the manifest first. -artifact
// PATH -kind KIND loads a single artifact file instead, unchecked (xgboost
// reads its feature and class names from PATH.meta.json beside it).
// Promotion into the registry is `make promote` (research/promote.py), so
// this command has no promote subcommand.
//
// # Input and output
//
// Input is CSV with a header row, or JSON Lines (one object per line;
// blank lines are ignored). The format comes from -format, else from the
// file's extension (.csv; .jsonl, .ndjson); stdin needs -format. Columns
// (or keys) are matched to the model's features by name, so their order does
// not matter and other columns are passed through. Values are numbers; in
// JSON Lines a string holding a number is accepted too.
//
// Missing values: an empty CSV field, NaN (in any case: NaN, nan, NAN), and
// in JSON Lines null, the bare NaN Python's json.dumps writes and the string
// "NaN" are a missing value. A model that takes missing values
// (Info().Missing: every XGBoost model, and scikit-learn trees exported with
// their missing-value directions; in the production registry every model
// but the heuristic) gets NaN and routes it as its reference library does;
// for any other model the row is a bad row, whose message says "missing
// value". A JSON object without a feature's key is a bad row for
// every model ("no such key"): write null for a missing value. Infinities
// are never missing values: they are bad rows.
//
// predict writes the input format: CSV gets the input columns followed by
// prediction and one probability_<class> column per class, in the model's
// class order; a JSON Lines object gets "prediction" and "probabilities"
// (an object of class → probability) appended, its other keys left as they
// were. Probabilities are written in the shortest form that reads back as
// the same float64. An input that already has a column or key of those names
// is refused.
//
// A CSV record (a row, with the line breaks inside its quoted fields) may be
// at most 1 MiB. A longer one is most likely an unterminated quoted field,
// which would swallow the rest of the file as one field; it stops the run
// with exit status 1 and the line where the record starts, whatever
// -on-error says, since the rows after it cannot be split reliably. So a
// stray quote costs at most a few MiB of memory, never the whole file. A
// JSON line longer than 1 MiB is a bad row.
//
// Files are streamed: chunks of rows are read, scored in parallel by one
// worker per core (GOMAXPROCS) and written in input order, so memory stays
// constant however large the file. When stderr is a terminal a progress line
// shows rows done, rows per second and, when the input's size is known, the
// percentage read (-progress=never turns it off). A summary line on stderr
// ends the run: rows scored, rows skipped and time taken.
//
// # Bad rows
//
// A row with a value that is not a number, an infinity, a missing value
// (for a model that takes none), a value <= 0 (unless -allow-non-positive),
// a value the model refuses (too large for float32, for the tree models) or
// the wrong number of fields is a bad row. Each is reported on
// stderr with its line number (the first 100 by default, -show-errors).
// With -on-error=skip (the default) bad rows are left out of the output and
// counted; with -on-error=fail the first one stops the run, after the output
// of the rows before it has been written.
//
// Feature values must be greater than 0, as the HTTP server (cmd/serve)
// requires unless it runs with -allow-non-positive (MPS_ALLOW_NON_POSITIVE),
// the old Python service's validation: 0, -0, negative values and -Inf are
// bad rows ("ensure this value is greater than 0"). predict and eval take
// -allow-non-positive too, to accept them. A missing value given to a model
// that takes missing values is exempt, as on the server; one given to a
// model that takes none is a bad row whatever the flag says (see Missing
// values).
//
// # Parity
//
// verify-parity checks one artifact against a parity file: a
// classify/golden file (version 1, or 2 as an exporter writes it beside the
// artifact; research/FORMATS.md) holding cases and the reference library's
// own labels and probabilities for them. The artifact is the file's
// "artifact" field, relative to the parity file, or -model ARTIFACT (which
// wins); the kind is the file's "kind" or -kind (a -kind other than the
// file's is a usage error). An xgboost artifact reads its names from
// ARTIFACT.meta.json beside it, as -artifact does. Every case is predicted
// one row at a time, then all of them in one batch, which must answer the
// same bit for bit. It passes when every label is the reference's, no case
// is refused (a missing value, null in a version 2 file, given to a model
// that takes none is refused), every probability is within the tolerance of
// the reference's, and the artifact's sha256 is the file's artifact_sha256
// when it names one. The tolerance is -tolerance, else the file's
// "tolerance", else 1e-9 (1e-6 for xgboost, whose reference sums in
// float32). It prints a summary (cases, label mismatches, largest
// probability difference and where, tolerance and where it came from, the
// reference) and the first 20 failing cases, and exits 1 when anything
// failed. For the production XGBoost model (classify verify-parity -kind
// xgboost -model models/xgboost.json testdata/golden/xgboost.json):
//
//	parity file                     testdata/golden/xgboost.json (classify/golden v2)
//	artifact                        models/xgboost.json (xgboost), sha256 e6468cc94130 as the parity file says
//	reference                       xgboost 3.2.0 (XGBClassifier.predict, predict_proba; float32 probabilities)
//	cases                           610 (13 with missing values; the model takes them)
//	label mismatches                0
//	largest probability difference  0
//	tolerance                       1e-06 (the default for xgboost)
//	result                          ok
//
// # Trees
//
// tree draws a tree model, chosen as for predict (-model, or -artifact
// with -kind), on stdout: tree -tree I (from 0) as SVG (-format svg, the
// default) or Graphviz DOT (-format dot, for `dot -Tpng`), or the model's
// page (-format html): its split and gain importances as bar charts and
// its first trees, self-contained. Split conditions are written as the
// model's library decides them (package treeviz). A model without trees
// (the heuristic rules) or a tree out of range is a usage error:
//
//	classify tree -model xgboost -tree 7 -format dot | dot -Tpng > tree7.png
//
// # Exit status
//
//	0  success
//	1  failure: a fatal bad row (-on-error=fail), a CSV record over 1 MiB, a
//	   checksum mismatch, an unreadable file (a directory where a file is
//	   wanted, too: "... is a directory"), a file without a column the model
//	   needs, a parity check that failed
//	2  usage: unknown command, bad flags or arguments, unknown model or kind
//	3  finished, but bad rows were skipped (-on-error=skip); the output holds
//	   every other row
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ml-production-service/classify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit statuses; see the package documentation.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitSkipped = 3
)

// usageError is a command line that cannot run: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// libraryError is an error of the classify library reported by a
// command: its message is the subcommand, what the command was loading and
// the library's message without the library's "classify: " prefix, which
// exitCode prints once for the whole line. It wraps the library's error,
// so errors.Is still finds the library's sentinels.
type libraryError struct {
	msg string
	err error
}

func (e *libraryError) Error() string { return e.msg }
func (e *libraryError) Unwrap() error { return e.err }

// libraryErr reports err, a library error, in command cmd while loading
// what (a flag and its value, say). Further prefixes (such as "registry: "
// when what names the registry already) are left out too.
func libraryErr(cmd, what string, err error, prefixes ...string) error {
	msg := strings.TrimPrefix(err.Error(), "classify: ")
	for _, p := range prefixes {
		msg = strings.TrimPrefix(msg, p)
	}
	return &libraryError{msg: cmd + ": " + what + ": " + msg, err: err}
}

// errSkipped reports a run that finished with bad rows skipped: exit status
// 3. Its counts are already in the summary line.
var errSkipped = errors.New("bad rows were skipped")

// exitCode reports err on stderr and returns the process's exit status.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errSkipped):
		return exitSkipped
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "classify: %s\nRun 'classify -h' for usage.\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "classify:", err)
		return exitFailure
	}
}

// env is what a command gets from the process: its environment and
// standard streams, and how it loads an artifact file.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// newModel loads an artifact file (-artifact, verify-parity):
	// classify.New. Tests wrap it to try models the loaders do not give
	// (one routing missing values to a chosen value, one whose batch path
	// differs).
	newModel func(kind classify.Kind, path string) (classify.Model, error)
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, newModel: classify.New})
}

// runEnv runs the command line args in e.
func runEnv(ctx context.Context, args []string, e env) error {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 {
		usage(stderr)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "predict":
		return predictCmd(ctx, rest, e)
	case "eval":
		return evalCmd(ctx, rest, e)
	case "models":
		return modelsCmd(rest, e)
	case "verify":
		return verifyCmd(rest, e)
	case "verify-parity":
		return verifyParityCmd(rest, e)
	case "explain":
		return explainCmd(ctx, rest, e)
	case "importance":
		return importanceCmd(ctx, rest, e)
	case "tree":
		return treeCmd(rest, e)
	case "-h", "-help", "--help", "help":
		if len(rest) > 0 && cmd == "help" {
			return runEnv(ctx, []string{rest[0], "-h"}, e)
		}
		usage(stdout)
		return nil
	}
	return usagef("unknown command %q (commands: predict, eval, explain, importance, models, verify, verify-parity, tree)", cmd)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: classify COMMAND [flags] [FILE]

Scores files with classify models and inspects the model registry.

Commands:
  predict   score a CSV or JSON Lines file (FILE, or stdin with -format); predictions on stdout or -o
  eval      accuracy and confusion matrix of a model on a labelled file
  explain   each row's feature contributions (TreeSHAP) to the model's raw outputs, as CSV or JSON Lines
  importance
            a tree model's split and gain importances; with FILE, the mean |contribution| per feature
  models    list the registry's models (name, kind, version, checksum, features, classes, metrics)
  verify    check every artifact of the registry against the sha256 in its manifest
  verify-parity
            check an artifact against a parity file: the reference library's own answers
  tree      draw a tree model: one tree as SVG or Graphviz DOT, or its page (HTML) with its importances

Run 'classify COMMAND -h' for a command's flags.
`+exitStatusHelp)
}

const exitStatusHelp = `
Exit status:
  0  success
  1  failure (a fatal bad row with -on-error=fail, a CSV record over 1 MiB, a checksum mismatch,
     an unreadable file, a parity check that failed)
  2  usage error (unknown command, bad flags or arguments, unknown model or kind)
  3  finished, but bad rows were skipped (-on-error=skip); the output holds every other row
`
