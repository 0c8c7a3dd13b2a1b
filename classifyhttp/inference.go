package classifyhttp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/ml-production-service/classify"
	"go.opentelemetry.io/otel/trace"
)

// The Open Inference Protocol's model side, independent of the transport:
// the REST routes under /v2 answer with it, and package classifygrpc
// (module .../classify/classifygrpc) serves the same calls over gRPC, so
// both transports address the same models and variants, apply the same
// limits and refuse the same requests with the same messages.

// An InferError is an Open Inference Protocol call's failure. Status is the
// HTTP status the REST routes answer it with: 400 for a request the model
// cannot take (its gRPC code is InvalidArgument), 404 for a model or version
// not served here (NotFound), 503 when no model is loaded (Unavailable), 500
// when a prediction failed (Internal). Message is the text both transports
// send.
type InferError struct {
	Status  int
	Message string
}

func (e *InferError) Error() string { return "classifyhttp: " + e.Message }

func inferErrorf(status int, format string, args ...any) *InferError {
	return &InferError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// ServerMetadata is the protocol's server metadata (GET /v2).
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// TensorMetadata describes one input or output tensor; -1 in Shape is a
// dimension of any size.
type TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ModelMetadata is the protocol's model metadata (GET /v2/models/{name}):
// one input, "input" (FP64, or FP32, of shape [-1, features]), and two
// outputs, "label" (BYTES, [-1]) and "probabilities" (FP64, [-1, classes],
// columns in class order).
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
}

// InferRequest is one inference request, decoded from its transport.
type InferRequest struct {
	// Model names the model: a variant's name, or a model's name (the
	// first variant serving it). Version, when not empty, must be the
	// served model's version.
	Model, Version string
	// ID is echoed in the response.
	ID string
	// RequestID is the transport's request id, written with each row to
	// the payload log (Options.PayloadLog).
	RequestID string
	// Inputs must hold exactly one tensor of datatype FP32 or FP64 and
	// shape [N, features], 1 <= N <= Options.MaxBatch.
	Inputs []InferInput
	// Outputs names the outputs wanted, "label", "probabilities" and
	// "contributions"; none means "label" alone. "contributions" needs a
	// model that is a classify.Contributor (400 otherwise).
	Outputs []string
}

// InferInput is one input tensor. Its values, row after row, are in one of
// three forms: FP64 or FP32 (the protocol's typed contents; either one for
// either datatype, FP32 datatype values rounded to float32), or Raw, the
// tensor's bytes as the binary forms of the protocol carry them (IEEE 754,
// little-endian, 4 bytes a value for FP32 and 8 for FP64). NaN is a missing
// value, refused unless the model takes missing values.
type InferInput struct {
	Name     string
	Datatype string
	Shape    []int64
	FP64     []float64
	FP32     []float32
	Raw      []byte
}

// InferResponse is the answer to an InferRequest: the model that answered
// (its name, version and variant), the request's ID, and the outputs asked
// for.
type InferResponse struct {
	Model, Version, Variant string
	ID                      string
	// Rows is the number of rows predicted; Classes the model's class
	// labels, in the order of the probability columns.
	Rows    int
	Classes []string
	// Labels holds each row's predicted label when "label" was asked for
	// (else nil); Probabilities each row's class probabilities, row after
	// row, when "probabilities" was.
	Labels        []string
	Probabilities []float64
	// Contributions holds, when "contributions" was asked for, each row's
	// feature contributions to each raw output, and its bias, as
	// classify.Contributor writes them: row r's value for raw output o and
	// feature f at [(r*len(ContributionOutputs)+o)*(len(Features)+1)+f],
	// the bias at f = len(Features); a tensor of shape [Rows,
	// len(ContributionOutputs), len(Features)+1]. ContributionOutputs
	// names the raw outputs (class labels; a binary boosted model's
	// positive class alone), RawOutput says what they are ("probability"
	// or "margin"), Features names the features.
	Contributions       []float64
	ContributionOutputs []string
	RawOutput           string
	Features            []string
}

// Ready reports whether the handler takes traffic: not draining, and every
// variant has a model (what /ready and /v2/health/ready answer).
func (h *Handler) Ready() bool { return h.ready() }

// ServerMetadata returns the server's metadata.
func (h *Handler) ServerMetadata() ServerMetadata {
	return ServerMetadata{Name: platform, Version: h.opts.Version, Extensions: []string{}}
}

// ModelMetadata returns the metadata of the model name (and version, when
// not empty), or an *InferError.
func (h *Handler) ModelMetadata(ctx context.Context, name, version string) (ModelMetadata, error) {
	c, err := h.lookup(name, version)
	if err != nil {
		return ModelMetadata{}, err
	}
	annotate(ctx, c)
	return c.metadata(), nil
}

// ModelReady reports whether the model name (and version, when not empty)
// is ready: it is served here and the handler is Ready. A model not served
// here is an *InferError.
func (h *Handler) ModelReady(ctx context.Context, name, version string) (bool, error) {
	c, err := h.lookup(name, version)
	if err != nil {
		return false, err
	}
	annotate(ctx, c)
	return h.ready(), nil
}

// Infer predicts the rows of req with the model it names, counting them in
// the prediction metrics and offering them to the shadow and the payload
// log as every other prediction. Its error is an *InferError.
func (h *Handler) Infer(ctx context.Context, req *InferRequest) (*InferResponse, error) {
	c, err := h.lookup(req.Model, req.Version)
	if err != nil {
		return nil, err
	}
	annotate(ctx, c)
	if len(req.Inputs) != 1 {
		return nil, inferErrorf(http.StatusBadRequest, "expected 1 input tensor of shape [N, %d], got %d inputs", len(c.info.Features), len(req.Inputs))
	}
	in := &req.Inputs[0]
	n, err := h.checkInput(c, in.Name, in.Datatype, in.Shape)
	if err != nil {
		return nil, err
	}
	want, err := wantOutputs(c, req.Outputs)
	if err != nil {
		return nil, err
	}
	rows, err := decodeInput(c, in, n)
	if err != nil {
		return nil, err
	}
	return h.infer(c, rows, n, req.ID, req.RequestID, want)
}

// lookup returns the served model name (and version) addresses: by
// variant name, or by model name (the first variant serving it). The
// protocol names its model, so a split does not apply: every variant,
// weight 0 included, is addressed directly. When the model is served but
// not at that version, it returns the model and the error.
func (h *Handler) lookup(name, version string) (*served, error) {
	v := h.view()
	if v.primary() == nil {
		return nil, inferErrorf(http.StatusServiceUnavailable, "no model is loaded")
	}
	var c *served
	var names []string
	for _, sv := range v.served {
		if sv == nil {
			continue
		}
		names = append(names, sv.variant)
		if sv.variant == name || c == nil && sv.name == name {
			c = sv
		}
	}
	if c == nil {
		return nil, inferErrorf(http.StatusNotFound, "model %q is not served here; this server serves \"%s\"", name, strings.Join(names, `", "`))
	}
	if version != "" && version != c.info.Version {
		return c, inferErrorf(http.StatusNotFound, "model %q has no version %q; serving version %q", name, version, c.info.Version)
	}
	return c, nil
}

func (c *served) metadata() ModelMetadata {
	versions := []string{}
	if c.info.Version != "" {
		versions = append(versions, c.info.Version)
	}
	outputs := []TensorMetadata{
		{Name: outputLabel, Datatype: "BYTES", Shape: []int64{-1}},
		{Name: outputProba, Datatype: "FP64", Shape: []int64{-1, int64(len(c.info.Classes))}},
	}
	if e := c.explain; e != nil {
		outputs = append(outputs, TensorMetadata{Name: outputContributions, Datatype: "FP64",
			Shape: []int64{-1, int64(len(e.outputs)), int64(e.nf + 1)}})
	}
	return ModelMetadata{
		Name: c.name, Versions: versions, Platform: platform + "_" + string(c.info.Kind),
		Inputs:  []TensorMetadata{{Name: "input", Datatype: "FP64", Shape: []int64{-1, int64(len(c.info.Features))}}},
		Outputs: outputs,
	}
}

// checkInput checks an input tensor's datatype and shape against c and the
// batch limit, and returns its number of rows.
func (h *Handler) checkInput(c *served, name, datatype string, shape []int64) (int, error) {
	if datatype != "FP32" && datatype != "FP64" {
		return 0, inferErrorf(http.StatusBadRequest, "input %q has datatype %q; FP32 and FP64 are accepted", name, datatype)
	}
	nf := len(c.info.Features)
	if len(shape) != 2 || shape[1] != int64(nf) || shape[0] < 1 {
		return 0, inferErrorf(http.StatusBadRequest, "input %q has shape %v; expected [N, %d] with N >= 1 (features: %v)", name, shape, nf, c.info.Features)
	}
	if shape[0] > int64(h.opts.MaxBatch) {
		return 0, inferErrorf(http.StatusBadRequest, "input %q has %d rows; at most %d are accepted per request", name, shape[0], h.opts.MaxBatch)
	}
	return int(shape[0]), nil
}

// wanted is the outputs an infer request asks for.
type wanted struct{ label, proba, contributions bool }

// wantOutputs reads the requested outputs' names: none asks for the label
// alone. An unknown name's error lists the outputs c has.
func wantOutputs(c *served, names []string) (wanted, error) {
	if len(names) == 0 {
		return wanted{label: true}, nil
	}
	var w wanted
	for _, name := range names {
		switch name {
		case outputLabel:
			w.label = true
		case outputProba:
			w.proba = true
		case outputContributions:
			w.contributions = true
		default:
			if c.explain == nil {
				return wanted{}, inferErrorf(http.StatusBadRequest, "unknown output %q (outputs: %q, %q)", name, outputLabel, outputProba)
			}
			return wanted{}, inferErrorf(http.StatusBadRequest, "unknown output %q (outputs: %q, %q, %q)", name, outputLabel, outputProba, outputContributions)
		}
	}
	return w, nil
}

// decodeInput returns in's n rows back to back as float64, from whichever
// form holds them.
func decodeInput(c *served, in *InferInput, n int) ([]float64, error) {
	want := n * len(c.info.Features)
	forms := 0
	for _, has := range []bool{in.FP64 != nil, in.FP32 != nil, in.Raw != nil} {
		if has {
			forms++
		}
	}
	if forms != 1 {
		return nil, inferErrorf(http.StatusBadRequest, "input %q must carry its values in one form (fp64 or fp32 contents, or raw bytes), got %d", in.Name, forms)
	}
	rows := make([]float64, want)
	switch {
	case in.FP64 != nil:
		if len(in.FP64) != want {
			return nil, inferErrorf(http.StatusBadRequest, "input %q: shape %v needs %d values, the contents hold %d", in.Name, in.Shape, want, len(in.FP64))
		}
		copy(rows, in.FP64)
	case in.FP32 != nil:
		if len(in.FP32) != want {
			return nil, inferErrorf(http.StatusBadRequest, "input %q: shape %v needs %d values, the contents hold %d", in.Name, in.Shape, want, len(in.FP32))
		}
		for i, v := range in.FP32 {
			rows[i] = float64(v)
		}
	default:
		size := 8
		if in.Datatype == "FP32" {
			size = 4
		}
		if len(in.Raw) != want*size {
			return nil, inferErrorf(http.StatusBadRequest, "input %q: shape %v needs %d values of %d bytes (%d bytes), the raw contents hold %d bytes",
				in.Name, in.Shape, want, size, want*size, len(in.Raw))
		}
		for i := range rows {
			if size == 4 {
				rows[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(in.Raw[4*i:])))
			} else {
				rows[i] = math.Float64frombits(binary.LittleEndian.Uint64(in.Raw[8*i:]))
			}
		}
	}
	for i, v := range rows {
		if in.Datatype == "FP32" {
			v = float64(float32(v))
			rows[i] = v
		}
		if v != v && !c.info.Missing {
			nf := len(c.info.Features)
			return nil, inferErrorf(http.StatusBadRequest, "input %q: row %d, feature %q is NaN, a missing value, and model %q takes none",
				in.Name, i/nf, c.info.Features[i%nf], c.name)
		}
	}
	return rows, nil
}

// infer predicts n rows with c and builds the answer. rows is not kept
// beyond the shadow's and the payload log's reading of it.
func (h *Handler) infer(c *served, rows []float64, n int, id, requestID string, want wanted) (*InferResponse, error) {
	if want.contributions && c.explain == nil {
		return nil, inferErrorf(http.StatusBadRequest, "%s", cannotExplainMsg(c))
	}
	nc := len(c.info.Classes)
	classes := make([]int, n)
	proba := make([]float64, n*nc)
	if err := c.model.PredictBatch(rows, classes, proba); err != nil {
		if errors.Is(err, classify.ErrInput) {
			return nil, inferErrorf(http.StatusBadRequest, "%s", err.Error())
		}
		h.log.Error("predict failed", "model", c.name, "error", err.Error())
		return nil, inferErrorf(http.StatusInternalServerError, "prediction failed")
	}
	var contribs []float64
	if want.contributions {
		e := c.explain
		contribs = make([]float64, n*e.stride)
		if err := e.model.ContributionsBatch(rows, contribs); err != nil {
			switch {
			case errors.Is(err, classify.ErrInput):
				return nil, inferErrorf(http.StatusBadRequest, "%s", err.Error())
			case errors.Is(err, classify.ErrFormat):
				h.log.Warn("contributions unavailable", "model", c.name, "error", err.Error())
				return nil, inferErrorf(http.StatusBadRequest, "model %q cannot explain contributions: %s", c.name, strings.TrimPrefix(err.Error(), "classify: "))
			}
			h.log.Error("contributions failed", "model", c.name, "error", err.Error())
			return nil, inferErrorf(http.StatusInternalServerError, "contributions failed")
		}
		e.explained.Add(float64(n))
	}
	nf := len(c.info.Features)
	for i, class := range classes {
		c.counters[class].Inc()
		if h.shadow != nil {
			h.observeShadow(c, rows[i*nf:(i+1)*nf], classify.Prediction{Class: class, Label: c.info.Classes[class]})
		}
		if h.opts.PayloadLog != nil {
			h.logPayload(requestID, c, rows[i*nf:(i+1)*nf], class, proba[i*nc:(i+1)*nc])
		}
	}
	resp := &InferResponse{Model: c.name, Version: c.info.Version, Variant: c.variant, ID: id, Rows: n, Classes: c.info.Classes}
	if want.label {
		resp.Labels = make([]string, n)
		for i, class := range classes {
			resp.Labels[i] = c.info.Classes[class]
		}
	}
	if want.proba {
		resp.Probabilities = proba
	}
	if want.contributions {
		resp.Contributions, resp.ContributionOutputs = contribs, c.explain.outputs
		resp.RawOutput, resp.Features = c.explain.info.RawOutput, c.info.Features
	}
	return resp, nil
}

// annotate notes the model answering a call on the call's trace span, when
// the call is traced (recorded): otherwise it costs one context lookup.
func annotate(ctx context.Context, c *served) { annotateSpan(trace.SpanFromContext(ctx), c) }

// annotateSpan is annotate for a span already looked up.
func annotateSpan(span trace.Span, c *served) {
	if span.IsRecording() {
		span.SetAttributes(c.traceAttrs...)
	}
}
