package classifyhttp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
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
	md := h.ServerMetadata()
	md.Extensions = []string{binaryExtension}
	writeJSON(w, http.StatusOK, md)
}

// binaryExtension is the REST extension this server speaks beyond the
// protocol's core: tensors as bytes after the JSON (what Triton's HTTP
// client sends and asks for by default).
const binaryExtension = "binary_tensor_data"

// v2Model returns the model the path names (see lookup); otherwise it
// answers the error and returns nil.
func (h *Handler) v2Model(w http.ResponseWriter, r *http.Request) *served {
	c, err := h.lookup(r.PathValue("name"), r.PathValue("version"))
	if c != nil {
		noteServed(w, c)
	}
	if err != nil {
		writeInferError(w, err)
		return nil
	}
	return c
}

// writeInferError answers an *InferError with its status.
func writeInferError(w http.ResponseWriter, err error) {
	var ie *InferError
	if !errors.As(err, &ie) {
		ie = &InferError{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	writeV2Error(w, ie.Status, ie.Message)
}

func (h *Handler) handleV2Metadata(w http.ResponseWriter, r *http.Request) {
	c := h.v2Model(w, r)
	if c == nil {
		return
	}
	writeJSON(w, http.StatusOK, c.metadata())
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
	Shape      []int64         `json:"shape"`
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
	Data       any            `json:"data,omitempty"` // none when binary
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
	// The binary tensor data extension: a JSON header of
	// Inference-Header-Content-Length bytes, then the tensors' bytes.
	header, bin := body.Bytes(), []byte(nil)
	if hl := r.Header.Get(headerLengthHeader); hl != "" {
		n, err := strconv.Atoi(hl)
		if err != nil || n < 0 || n > len(header) {
			writeV2Error(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a length within the body's %d bytes", headerLengthHeader, hl, len(header)))
			return
		}
		header, bin = header[:n], header[n:]
	}
	var req inferRequest
	if err := json.Unmarshal(nanDataToNull(header), &req); err != nil {
		writeV2Error(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	rows, n, err := h.v2Rows(c, req, bin)
	if err != nil {
		writeInferError(w, err)
		return
	}
	outputs := make([]string, len(req.Outputs))
	binaryOut := map[string]bool{}
	for i, o := range req.Outputs {
		outputs[i] = o.Name
		binaryOut[o.Name] = o.Parameters["binary_data"] == true
	}
	allBinary := req.Parameters["binary_data_output"] == true
	if outputs, err = contributionsParam(outputs, req.Parameters); err != nil {
		writeInferError(w, err)
		return
	}
	want, err := wantOutputs(c, outputs)
	if err != nil {
		writeInferError(w, err)
		return
	}
	res, err := h.infer(c, rows, n, req.ID, responseRequestID(w), want)
	if err != nil {
		writeInferError(w, err)
		return
	}
	resp := inferResponse{ModelName: res.Model, ModelVersion: res.Version, ID: res.ID, Outputs: []inferOutput{}}
	var tail []byte // the binary outputs' bytes, in output order
	if res.Labels != nil {
		o := inferOutput{Name: outputLabel, Shape: []int{n}, Datatype: "BYTES", Parameters: map[string]any{"content_type": "str"}, Data: res.Labels}
		if allBinary || binaryOut[outputLabel] {
			start := len(tail)
			for _, l := range res.Labels {
				tail = append(binary.LittleEndian.AppendUint32(tail, uint32(len(l))), l...)
			}
			o.Data, o.Parameters["binary_data_size"] = nil, len(tail)-start
		}
		resp.Outputs = append(resp.Outputs, o)
	}
	if res.Probabilities != nil {
		o := inferOutput{Name: outputProba, Shape: []int{n, len(res.Classes)}, Datatype: "FP64", Data: res.Probabilities}
		if allBinary || binaryOut[outputProba] {
			for _, p := range res.Probabilities {
				tail = binary.LittleEndian.AppendUint64(tail, math.Float64bits(p))
			}
			o.Data, o.Parameters = nil, map[string]any{"binary_data_size": 8 * len(res.Probabilities)}
		}
		resp.Outputs = append(resp.Outputs, o)
	}
	if res.Contributions != nil {
		e := c.explain
		o := inferOutput{Name: outputContributions, Shape: []int{n, len(res.ContributionOutputs), len(res.Features) + 1}, Datatype: "FP64",
			Parameters: map[string]any{"outputs": e.outputsParam, "features": e.featuresParam, "raw_output": res.RawOutput},
			Data:       res.Contributions}
		if allBinary || binaryOut[outputContributions] {
			for _, v := range res.Contributions {
				tail = binary.LittleEndian.AppendUint64(tail, math.Float64bits(v))
			}
			o.Data, o.Parameters["binary_data_size"] = nil, 8*len(res.Contributions)
		}
		resp.Outputs = append(resp.Outputs, o)
	}
	if tail == nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	js, err := json.Marshal(resp)
	if err != nil {
		writeV2Error(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	hd := w.Header()
	hd["Content-Type"] = []string{"application/octet-stream"}
	hd[headerLengthHeader] = []string{strconv.Itoa(len(js))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(js, tail...))
}

// contributionsParam adds "contributions" to the outputs asked for when
// the request's parameters hold {"contributions": true} (and "label" when
// none was listed, which stays the default).
func contributionsParam(outputs []string, params map[string]any) ([]string, error) {
	v, ok := params["contributions"]
	if !ok {
		return outputs, nil
	}
	want, isBool := v.(bool)
	if !isBool {
		return nil, inferErrorf(http.StatusBadRequest, "parameter contributions is %s; true or false is expected", fmtParam(v))
	}
	if !want || slices.Contains(outputs, outputContributions) {
		return outputs, nil
	}
	if len(outputs) == 0 {
		outputs = append(outputs, outputLabel)
	}
	return append(outputs, outputContributions), nil
}

// headerLengthHeader is the binary tensor data extension's header: the
// length of the JSON part of a body that binary tensors follow.
const headerLengthHeader = "Inference-Header-Content-Length"

// v2Rows returns the rows of the request's one input: from its JSON data,
// or, when its parameters give binary_data_size, from bin (the binary
// tensor data extension: little-endian values, as raw contents).
func (h *Handler) v2Rows(c *served, req inferRequest, bin []byte) ([]float64, int, error) {
	size, isBinary := -1, false
	if len(req.Inputs) == 1 {
		if v, ok := req.Inputs[0].Parameters["binary_data_size"]; ok {
			f, isNumber := v.(float64)
			if !isNumber || f < 0 || f != math.Trunc(f) {
				return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: binary_data_size %s is not a byte count", req.Inputs[0].Name, fmtParam(v))
			}
			size, isBinary = int(f), true
		}
	}
	if !isBinary {
		if len(bin) > 0 {
			return nil, 0, inferErrorf(http.StatusBadRequest, "the body holds %d bytes after its JSON header, but no input has binary_data_size", len(bin))
		}
		return h.inferRows(c, req)
	}
	in := req.Inputs[0]
	if size != len(bin) {
		return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: binary_data_size is %d, the body holds %d bytes after its JSON header", in.Name, size, len(bin))
	}
	if len(in.Data) > 0 && string(in.Data) != "null" {
		return nil, 0, inferErrorf(http.StatusBadRequest, "input %q has both data and binary_data_size", in.Name)
	}
	n, err := h.checkInput(c, in.Name, in.Datatype, in.Shape)
	if err != nil {
		return nil, 0, err
	}
	rows, err := decodeInput(c, &InferInput{Name: in.Name, Datatype: in.Datatype, Shape: in.Shape, Raw: bin}, n)
	return rows, n, err
}

// inferRows checks the request's one input tensor and returns its rows,
// back to back, and their count.
func (h *Handler) inferRows(c *served, req inferRequest) ([]float64, int, error) {
	if len(req.Inputs) != 1 {
		return nil, 0, inferErrorf(http.StatusBadRequest, "expected 1 input tensor of shape [N, %d], got %d inputs", len(c.info.Features), len(req.Inputs))
	}
	in := req.Inputs[0]
	n, err := h.checkInput(c, in.Name, in.Datatype, in.Shape)
	if err != nil {
		return nil, 0, err
	}
	nf := len(c.info.Features)
	var d jsonDoc
	if len(in.Data) == 0 {
		return nil, 0, inferErrorf(http.StatusBadRequest, "input %q has no data", in.Name)
	}
	if err := d.parse(in.Data); err != nil {
		return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: data: %v", in.Name, err)
	}
	if d.nodes[0].kind != jArray {
		return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: data must be an array", in.Name)
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
					return "", inferErrorf(http.StatusBadRequest, "input %q: %s[%d] is %s, a missing value, and model %q takes none", in.Name, where, k, d.raw(i), c.name)
				}
				if in.Datatype == "FP32" {
					v = float64(float32(v))
				}
				rows = append(rows, v)
			case jArray:
				return fmt.Sprintf("%s[%d]", where, k), nil
			default:
				return "", inferErrorf(http.StatusBadRequest, "input %q: data holds %s; numbers are expected", in.Name, d.raw(i))
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
			return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: %s is an array but data[0] is a number; data must be flat (%d numbers) or nested as shape %v (%d arrays of %d numbers)",
				in.Name, at, n*nf, in.Shape, n, nf)
		}
		if len(rows) != n*nf {
			return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: shape %v needs %d values, data holds %d", in.Name, in.Shape, n*nf, len(rows))
		}
		return rows, n, nil
	}
	if int(root.count) != n {
		return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: shape %v needs %d rows, nested data holds %d", in.Name, in.Shape, n, root.count)
	}
	i := 1
	for r := range n {
		row := d.nodes[i]
		if row.kind != jArray {
			return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: data[%d] is %s but data[0] is an array; nested data must be %d arrays of %d numbers",
				in.Name, r, d.raw(i), n, nf)
		}
		if int(row.count) != nf {
			return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: data[%d] holds %d values; shape %v needs %d per row", in.Name, r, row.count, in.Shape, nf)
		}
		at, err := numbers(i, nf, fmt.Sprintf("data[%d]", r))
		if err != nil {
			return nil, 0, err
		}
		if at != "" {
			return nil, 0, inferErrorf(http.StatusBadRequest, "input %q: %s is an array; shape %v nests data two levels deep at most", in.Name, at, in.Shape)
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

// fmtParam shows a JSON parameter's value as JSON.
func fmtParam(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
