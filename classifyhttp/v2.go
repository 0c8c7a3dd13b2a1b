package classifyhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ml-production-service/classify"
)

// The Open Inference Protocol (KServe V2 REST, spoken by Triton and
// MLServer clients). The model is addressed by its name (Info().Name, or its
// kind when it was loaded from a file). An infer request carries one input
// tensor of datatype FP32 or FP64 and shape [N, len(features)], its data
// flat (row-major) or nested; the answer holds the output "label" (BYTES,
// shape [N]) and, when the request lists it in "outputs", "probabilities"
// (FP64, shape [N, len(classes)], columns in class order). Errors answer a
// non-2xx status with {"error": "..."}.

const (
	outputLabel = "label"
	outputProba = "probabilities"
	platform    = "classify"
)

func (h *Handler) routeV2(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusOK, []byte(`{"live":true}`))
	})
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if !h.ready() {
			writeBody(w, http.StatusServiceUnavailable, []byte(`{"ready":false}`))
			return
		}
		writeBody(w, http.StatusOK, []byte(`{"ready":true}`))
	})
	mux.HandleFunc("GET /v2", h.handleV2Server)
	for _, prefix := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		mux.HandleFunc("GET "+prefix, h.handleV2Metadata)
		mux.HandleFunc("GET "+prefix+"/ready", h.handleV2ModelReady)
		mux.HandleFunc("POST "+prefix+"/infer", h.handleV2Infer)
	}
}

func (h *Handler) handleV2Server(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Name       string   `json:"name"`
		Version    string   `json:"version"`
		Extensions []string `json:"extensions"`
	}{platform, h.opts.Version, []string{}})
}

// v2Model returns the model the path names, by variant name or model
// name (and its version, if given); otherwise it answers 404 and returns
// nil. The Open Inference Protocol names its model, so a split does not
// apply here: every variant, weight 0 included, is addressed directly.
func (h *Handler) v2Model(w http.ResponseWriter, r *http.Request) *served {
	v := h.view()
	name, version := r.PathValue("name"), r.PathValue("version")
	if v.primary() == nil {
		writeV2Error(w, http.StatusServiceUnavailable, "no model is loaded")
		return nil
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
		writeV2Error(w, http.StatusNotFound, fmt.Sprintf("model %q is not served here; this server serves \"%s\"", name, strings.Join(names, `", "`)))
		return nil
	}
	noteServed(w, c)
	if version != "" && version != c.info.Version {
		writeV2Error(w, http.StatusNotFound, fmt.Sprintf("model %q has no version %q; serving version %q", name, version, c.info.Version))
		return nil
	}
	return c
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

type modelMetadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

func (h *Handler) handleV2Metadata(w http.ResponseWriter, r *http.Request) {
	c := h.v2Model(w, r)
	if c == nil {
		return
	}
	versions := []string{}
	if c.info.Version != "" {
		versions = append(versions, c.info.Version)
	}
	writeJSON(w, http.StatusOK, modelMetadata{
		Name: c.name, Versions: versions, Platform: platform + "_" + string(c.info.Kind),
		Inputs: []tensorMeta{{Name: "input", Datatype: "FP64", Shape: []int{-1, len(c.info.Features)}}},
		Outputs: []tensorMeta{
			{Name: outputLabel, Datatype: "BYTES", Shape: []int{-1}},
			{Name: outputProba, Datatype: "FP64", Shape: []int{-1, len(c.info.Classes)}},
		},
	})
}

func (h *Handler) handleV2ModelReady(w http.ResponseWriter, r *http.Request) {
	c := h.v2Model(w, r)
	if c == nil {
		return
	}
	ready := h.ready()
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, struct {
		Name  string `json:"name"`
		Ready bool   `json:"ready"`
	}{c.name, ready})
}

type inferInput struct {
	Name       string          `json:"name"`
	Shape      []int           `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

type inferRequest struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []inferInput   `json:"inputs"`
	Outputs    []struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters,omitempty"`
	} `json:"outputs,omitempty"`
}

type inferOutput struct {
	Name       string         `json:"name"`
	Shape      []int          `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data"`
}

type inferResponse struct {
	ModelName    string        `json:"model_name"`
	ModelVersion string        `json:"model_version,omitempty"`
	ID           string        `json:"id,omitempty"`
	Outputs      []inferOutput `json:"outputs"`
}

func (h *Handler) handleV2Infer(w http.ResponseWriter, r *http.Request) {
	c := h.v2Model(w, r)
	if c == nil {
		return
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeStatusError(w, r.URL.Path, http.StatusRequestEntityTooLarge)
			return
		}
		writeV2Error(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return
	}
	var req inferRequest
	if err := json.Unmarshal(nanDataToNull(body.Bytes()), &req); err != nil {
		writeV2Error(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	rows, n, err := h.inferRows(c, req)
	if err != nil {
		writeV2Error(w, http.StatusBadRequest, err.Error())
		return
	}
	wantLabel, wantProba := true, false
	if len(req.Outputs) > 0 {
		wantLabel = false
		for _, o := range req.Outputs {
			switch o.Name {
			case outputLabel:
				wantLabel = true
			case outputProba:
				wantProba = true
			default:
				writeV2Error(w, http.StatusBadRequest, fmt.Sprintf("unknown output %q (outputs: %q, %q)", o.Name, outputLabel, outputProba))
				return
			}
		}
	}
	nc := len(c.info.Classes)
	classes := make([]int, n)
	proba := make([]float64, n*nc)
	if err := c.model.PredictBatch(rows, classes, proba); err != nil {
		if errors.Is(err, classify.ErrInput) {
			writeV2Error(w, http.StatusBadRequest, err.Error())
			return
		}
		h.log.Error("predict failed", "model", c.name, "error", err.Error())
		writeV2Error(w, http.StatusInternalServerError, "prediction failed")
		return
	}
	resp := inferResponse{ModelName: c.name, ModelVersion: c.info.Version, ID: req.ID, Outputs: []inferOutput{}}
	for i, class := range classes {
		c.counters[class].Inc()
		if h.shadow != nil {
			h.observeShadow(c, rows[i*len(c.info.Features):(i+1)*len(c.info.Features)],
				classify.Prediction{Class: class, Label: c.info.Classes[class]})
		}
	}
	if wantLabel {
		labels := make([]string, n)
		for i, class := range classes {
			labels[i] = c.info.Classes[class]
		}
		resp.Outputs = append(resp.Outputs, inferOutput{Name: outputLabel, Shape: []int{n}, Datatype: "BYTES",
			Parameters: map[string]any{"content_type": "str"}, Data: labels})
	}
	if wantProba {
		resp.Outputs = append(resp.Outputs, inferOutput{Name: outputProba, Shape: []int{n, nc}, Datatype: "FP64", Data: proba})
	}
	writeJSON(w, http.StatusOK, resp)
}

// inferRows checks the request's one input tensor and returns its rows,
// back to back, and their count.
func (h *Handler) inferRows(c *served, req inferRequest) ([]float64, int, error) {
	if len(req.Inputs) != 1 {
		return nil, 0, fmt.Errorf("expected 1 input tensor of shape [N, %d], got %d inputs", len(c.info.Features), len(req.Inputs))
	}
	in := req.Inputs[0]
	if in.Datatype != "FP32" && in.Datatype != "FP64" {
		return nil, 0, fmt.Errorf("input %q has datatype %q; FP32 and FP64 are accepted", in.Name, in.Datatype)
	}
	nf := len(c.info.Features)
	if len(in.Shape) != 2 || in.Shape[1] != nf || in.Shape[0] < 1 {
		return nil, 0, fmt.Errorf("input %q has shape %v; expected [N, %d] with N >= 1 (features: %v)", in.Name, in.Shape, nf, c.info.Features)
	}
	n := in.Shape[0]
	if n > h.opts.MaxBatch {
		return nil, 0, fmt.Errorf("input %q has %d rows; at most %d are accepted per request", in.Name, n, h.opts.MaxBatch)
	}
	var d jsonDoc
	if len(in.Data) == 0 {
		return nil, 0, fmt.Errorf("input %q has no data", in.Name)
	}
	if err := d.parse(in.Data); err != nil {
		return nil, 0, fmt.Errorf("input %q: data: %v", in.Name, err)
	}
	if d.nodes[0].kind != jArray {
		return nil, 0, fmt.Errorf("input %q: data must be an array", in.Name)
	}
	// Data is either flat (n*nf numbers) or nested as the shape is: n
	// arrays of nf numbers each. Anything else is refused, not flattened.
	rows := make([]float64, 0, n*nf)
	// numbers appends the count elements that follow node at, which must
	// all be numbers, and says where the first that is not is.
	numbers := func(at, count int, where string) (string, error) {
		i := at + 1
		for k := range count {
			switch d.nodes[i].kind {
			case jNumber, jNull:
				v := nan // null: a missing value
				if d.nodes[i].kind == jNumber {
					v = d.number(i)
				}
				if v != v && !c.info.Missing {
					return "", fmt.Errorf("input %q: %s[%d] is %s, a missing value, and model %q takes none", in.Name, where, k, d.raw(i), c.name)
				}
				if in.Datatype == "FP32" {
					v = float64(float32(v))
				}
				rows = append(rows, v)
			case jArray:
				return fmt.Sprintf("%s[%d]", where, k), nil
			default:
				return "", fmt.Errorf("input %q: data holds %s; numbers are expected", in.Name, d.raw(i))
			}
			i += int(d.nodes[i].size)
		}
		return "", nil
	}
	root := d.nodes[0]
	nested := root.count > 0 && d.nodes[1].kind == jArray
	if !nested {
		at, err := numbers(0, int(root.count), "data")
		if err != nil {
			return nil, 0, err
		}
		if at != "" {
			return nil, 0, fmt.Errorf("input %q: %s is an array but data[0] is a number; data must be flat (%d numbers) or nested as shape %v (%d arrays of %d numbers)",
				in.Name, at, n*nf, in.Shape, n, nf)
		}
		if len(rows) != n*nf {
			return nil, 0, fmt.Errorf("input %q: shape %v needs %d values, data holds %d", in.Name, in.Shape, n*nf, len(rows))
		}
		return rows, n, nil
	}
	if int(root.count) != n {
		return nil, 0, fmt.Errorf("input %q: shape %v needs %d rows, nested data holds %d", in.Name, in.Shape, n, root.count)
	}
	i := 1
	for r := range n {
		row := d.nodes[i]
		if row.kind != jArray {
			return nil, 0, fmt.Errorf("input %q: data[%d] is %s but data[0] is an array; nested data must be %d arrays of %d numbers",
				in.Name, r, d.raw(i), n, nf)
		}
		if int(row.count) != nf {
			return nil, 0, fmt.Errorf("input %q: data[%d] holds %d values; shape %v needs %d per row", in.Name, r, row.count, in.Shape, nf)
		}
		at, err := numbers(i, nf, fmt.Sprintf("data[%d]", r))
		if err != nil {
			return nil, 0, err
		}
		if at != "" {
			return nil, 0, fmt.Errorf("input %q: %s is an array; shape %v nests data two levels deep at most", in.Name, at, in.Shape)
		}
		i += int(row.size)
	}
	return rows, n, nil
}

// nanDataToNull returns body with every NaN literal inside an input's data
// (inputs[i].data) turned into null, which encoding/json reads: both are a
// missing value there. A body without one, or that Python's json rules do
// not parse, comes back as it is, for encoding/json to judge as before.
func nanDataToNull(body []byte) []byte {
	if !bytes.Contains(body, []byte("NaN")) || !utf8.Valid(body) {
		return body
	}
	var d jsonDoc
	if d.parse(body) != nil || d.nodes[0].kind != jObject {
		return body
	}
	var at []int32 // byte offsets of the NaN literals to replace, in order
	members := func(obj int, each func(key string, v int)) {
		k := obj + 1
		for range int(d.nodes[obj].count) {
			v := k + 1
			each(d.text(k), v)
			k = v + int(d.nodes[v].size)
		}
	}
	members(0, func(key string, inputs int) {
		if key != "inputs" || d.nodes[inputs].kind != jArray {
			return
		}
		for in := inputs + 1; in < inputs+int(d.nodes[inputs].size); in += int(d.nodes[in].size) {
			if d.nodes[in].kind != jObject {
				continue
			}
			members(in, func(key string, data int) {
				if key != "data" {
					return
				}
				for n := data; n < data+int(d.nodes[data].size); n++ {
					if d.nodes[n].kind == jNumber && string(d.raw(n)) == "NaN" {
						at = append(at, d.nodes[n].start)
					}
				}
			})
		}
	})
	if len(at) == 0 {
		return body
	}
	out := make([]byte, 0, len(body)+len(at))
	last := 0
	for _, a := range at {
		out = append(append(out, body[last:a]...), "null"...)
		last = int(a) + len("NaN")
	}
	return append(out, body[last:]...)
}
