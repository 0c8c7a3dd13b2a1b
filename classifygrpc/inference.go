package classifygrpc

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"

	"github.com/ml-production-service/classify/classifygrpc/inferencepb"
	"github.com/ml-production-service/classify/classifyhttp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The GRPCInferenceService's calls, answered by classifyhttp.Handler's
// transport-neutral Open Inference Protocol calls.

// ServerLive answers live: a server that answers is live.
func (s *Service) ServerLive(context.Context, *inferencepb.ServerLiveRequest) (*inferencepb.ServerLiveResponse, error) {
	return &inferencepb.ServerLiveResponse{Live: true}, nil
}

// ServerReady answers whether the handler takes traffic (false while
// draining or before its models are loaded).
func (s *Service) ServerReady(context.Context, *inferencepb.ServerReadyRequest) (*inferencepb.ServerReadyResponse, error) {
	return &inferencepb.ServerReadyResponse{Ready: s.h.Ready()}, nil
}

// ModelReady answers whether the named model is ready; a model not served
// here is NotFound.
func (s *Service) ModelReady(ctx context.Context, req *inferencepb.ModelReadyRequest) (*inferencepb.ModelReadyResponse, error) {
	noteModel(ctx, req.GetName(), "")
	ready, err := s.h.ModelReady(ctx, req.GetName(), req.GetVersion())
	if err != nil {
		return nil, statusOf(err)
	}
	return &inferencepb.ModelReadyResponse{Ready: ready}, nil
}

// ServerMetadata answers the server's name, version and extensions (none).
func (s *Service) ServerMetadata(context.Context, *inferencepb.ServerMetadataRequest) (*inferencepb.ServerMetadataResponse, error) {
	md := s.h.ServerMetadata()
	return &inferencepb.ServerMetadataResponse{Name: md.Name, Version: md.Version, Extensions: md.Extensions}, nil
}

// ModelMetadata answers the named model's metadata, as GET
// /v2/models/{name} does.
func (s *Service) ModelMetadata(ctx context.Context, req *inferencepb.ModelMetadataRequest) (*inferencepb.ModelMetadataResponse, error) {
	noteModel(ctx, req.GetName(), "")
	md, err := s.h.ModelMetadata(ctx, req.GetName(), req.GetVersion())
	if err != nil {
		return nil, statusOf(err)
	}
	tensors := func(ts []classifyhttp.TensorMetadata) []*inferencepb.ModelMetadataResponse_TensorMetadata {
		out := make([]*inferencepb.ModelMetadataResponse_TensorMetadata, len(ts))
		for i, t := range ts {
			out[i] = &inferencepb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape}
		}
		return out
	}
	return &inferencepb.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform,
		Inputs: tensors(md.Inputs), Outputs: tensors(md.Outputs)}, nil
}

// ModelInfer predicts the rows of the request's one input tensor, given in
// its typed contents (fp32_contents or fp64_contents) or in
// raw_input_contents (little-endian). It answers "label" (BYTES) and, when
// asked, "probabilities" (FP64, [N, classes]) and, from a tree model,
// "contributions" (FP64, [N, outputs, features+1]: each feature's TreeSHAP
// contribution to each raw output, the bias last; its parameters "outputs"
// and "features" name the axes as JSON arrays, "raw_output" says
// probability or margin), asked for as an output or with the request
// parameter contributions (bool_param true), in the form the request
// used: raw_output_contents for a raw request (BYTES as 4-byte
// little-endian lengths before each label, as Triton's clients read it),
// typed contents otherwise.
func (s *Service) ModelInfer(ctx context.Context, req *inferencepb.ModelInferRequest) (*inferencepb.ModelInferResponse, error) {
	noteModel(ctx, req.GetModelName(), "")
	raw := req.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(req.GetInputs()) {
		return nil, status.Errorf(codes.InvalidArgument, "raw_input_contents holds %d tensors for %d inputs; give every input's values there, or none", len(raw), len(req.GetInputs()))
	}
	in := classifyhttp.InferRequest{Model: req.GetModelName(), Version: req.GetModelVersion(), ID: req.GetId(), RequestID: callRequestID(ctx),
		Inputs: make([]classifyhttp.InferInput, len(req.GetInputs()))}
	for i, t := range req.GetInputs() {
		x := &in.Inputs[i]
		x.Name, x.Datatype, x.Shape = t.GetName(), t.GetDatatype(), t.GetShape()
		c := t.GetContents()
		if len(raw) > 0 {
			x.Raw = raw[i]
			if x.Raw == nil {
				x.Raw = []byte{}
			}
			if c != nil && (len(c.GetFp32Contents()) > 0 || len(c.GetFp64Contents()) > 0) {
				return nil, status.Errorf(codes.InvalidArgument, "input %q has both contents and raw_input_contents", x.Name)
			}
			continue
		}
		if v := c.GetFp64Contents(); len(v) > 0 {
			x.FP64 = v
		}
		if v := c.GetFp32Contents(); len(v) > 0 {
			x.FP32 = v
		}
	}
	for _, o := range req.GetOutputs() {
		in.Outputs = append(in.Outputs, o.GetName())
	}
	if p, ok := req.GetParameters()["contributions"]; ok {
		want, isBool := p.GetParameterChoice().(*inferencepb.InferParameter_BoolParam)
		if !isBool {
			return nil, status.Errorf(codes.InvalidArgument, "parameter contributions must be a bool_param")
		}
		if want.BoolParam && !slices.Contains(in.Outputs, "contributions") {
			if len(in.Outputs) == 0 {
				in.Outputs = append(in.Outputs, "label")
			}
			in.Outputs = append(in.Outputs, "contributions")
		}
	}
	res, err := s.h.Infer(ctx, &in)
	if err != nil {
		return nil, statusOf(err)
	}
	noteModel(ctx, res.Model, res.Variant)
	out := &inferencepb.ModelInferResponse{ModelName: res.Model, ModelVersion: res.Version, Id: res.ID}
	n := int64(res.Rows)
	if res.Labels != nil {
		t := &inferencepb.ModelInferResponse_InferOutputTensor{Name: "label", Datatype: "BYTES", Shape: []int64{n},
			Parameters: map[string]*inferencepb.InferParameter{"content_type": {ParameterChoice: &inferencepb.InferParameter_StringParam{StringParam: "str"}}}}
		if len(raw) > 0 {
			size := 0
			for _, l := range res.Labels {
				size += 4 + len(l)
			}
			b := make([]byte, 0, size)
			for _, l := range res.Labels {
				b = append(binary.LittleEndian.AppendUint32(b, uint32(len(l))), l...)
			}
			out.RawOutputContents = append(out.RawOutputContents, b)
		} else {
			// One []byte per class, shared by the rows predicting it.
			class := make(map[string][]byte, len(res.Classes))
			for _, c := range res.Classes {
				class[c] = []byte(c)
			}
			labels := make([][]byte, len(res.Labels))
			for i, l := range res.Labels {
				labels[i] = class[l]
			}
			t.Contents = &inferencepb.InferTensorContents{BytesContents: labels}
		}
		out.Outputs = append(out.Outputs, t)
	}
	if res.Probabilities != nil {
		t := &inferencepb.ModelInferResponse_InferOutputTensor{Name: "probabilities", Datatype: "FP64", Shape: []int64{n, int64(len(res.Classes))}}
		addFP64(out, t, res.Probabilities, len(raw) > 0)
	}
	if res.Contributions != nil {
		str := func(s string) *inferencepb.InferParameter {
			return &inferencepb.InferParameter{ParameterChoice: &inferencepb.InferParameter_StringParam{StringParam: s}}
		}
		outs, _ := json.Marshal(res.ContributionOutputs)
		feats, _ := json.Marshal(append(append([]string{}, res.Features...), "bias"))
		t := &inferencepb.ModelInferResponse_InferOutputTensor{Name: "contributions", Datatype: "FP64",
			Shape:      []int64{n, int64(len(res.ContributionOutputs)), int64(len(res.Features) + 1)},
			Parameters: map[string]*inferencepb.InferParameter{"outputs": str(string(outs)), "features": str(string(feats)), "raw_output": str(res.RawOutput)}}
		addFP64(out, t, res.Contributions, len(raw) > 0)
	}
	return out, nil
}

// addFP64 appends the FP64 output t holding v to out: as raw little-endian
// bytes in out.RawOutputContents when the request sent raw inputs, else
// as t's typed contents.
func addFP64(out *inferencepb.ModelInferResponse, t *inferencepb.ModelInferResponse_InferOutputTensor, v []float64, raw bool) {
	if raw {
		b := make([]byte, 0, 8*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
		out.RawOutputContents = append(out.RawOutputContents, b)
	} else {
		t.Contents = &inferencepb.InferTensorContents{Fp64Contents: v}
	}
	out.Outputs = append(out.Outputs, t)
}

// statusOf maps a classifyhttp.InferError to the gRPC status the protocol
// gives its HTTP status: 400 InvalidArgument, 404 NotFound, 503
// Unavailable, 413 ResourceExhausted, 500 (and anything else) Internal.
func statusOf(err error) error {
	var ie *classifyhttp.InferError
	if !errors.As(err, &ie) {
		return status.Error(codes.Internal, err.Error())
	}
	code := codes.Internal
	switch ie.Status {
	case http.StatusBadRequest:
		code = codes.InvalidArgument
	case http.StatusNotFound:
		code = codes.NotFound
	case http.StatusServiceUnavailable:
		code = codes.Unavailable
	case http.StatusRequestEntityTooLarge:
		code = codes.ResourceExhausted
	}
	return status.Error(code, ie.Message)
}
