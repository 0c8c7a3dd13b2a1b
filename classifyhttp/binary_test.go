package classifyhttp

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/ml-production-service/classify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postBinary posts header (JSON) followed by bin as the binary tensor data
// extension does: Inference-Header-Content-Length says where the JSON ends.
func postBinary(t *testing.T, h http.Handler, header string, bin []byte, length string) *httptest.ResponseRecorder {
	t.Helper()
	if length == "" {
		length = strconv.Itoa(len(header))
	}
	req := httptest.NewRequest(http.MethodPost, "/v2/models/heuristic/infer", strings.NewReader(header+string(bin)))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(headerLengthHeader, length)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestV2InferBinary(t *testing.T) {
	hs := newHarness(t, classify.IrisRules(), Options{})
	rows := []float64{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3}
	for _, tc := range []struct {
		datatype string
		size     int
	}{{"FP32", 4}, {"FP64", 8}} {
		t.Run(tc.datatype, func(t *testing.T) {
			bin := leBytes(tc.size, rows...)
			header := `{"id":"b1","inputs":[{"name":"input","shape":[2,4],"datatype":"` + tc.datatype + `","parameters":{"binary_data_size":` + strconv.Itoa(len(bin)) + `}}],` +
				`"outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"probabilities","parameters":{"binary_data":true}}]}`
			rec := postBinary(t, hs.h, header, bin, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "application/octet-stream", rec.Header().Get("Content-Type"))
			n, err := strconv.Atoi(rec.Header().Get(headerLengthHeader))
			require.NoError(t, err)
			body := rec.Body.Bytes()
			var resp struct {
				ID      string `json:"id"`
				Outputs []struct {
					Name       string
					Parameters map[string]any
					Data       any
				}
			}
			require.NoError(t, json.Unmarshal(body[:n], &resp))
			assert.Equal(t, "b1", resp.ID)
			require.Len(t, resp.Outputs, 2)
			assert.Nil(t, resp.Outputs[0].Data)
			labelSize := int(resp.Outputs[0].Parameters["binary_data_size"].(float64))
			assert.Equal(t, 4+6+4+9, labelSize)
			tail := body[n:]
			var labels []string
			for b := tail[:labelSize]; len(b) > 0; {
				l := binary.LittleEndian.Uint32(b)
				labels = append(labels, string(b[4:4+l]))
				b = b[4+l:]
			}
			assert.Equal(t, []string{"setosa", "virginica"}, labels)
			var proba []float64
			for b := tail[labelSize:]; len(b) > 0; b = b[8:] {
				proba = append(proba, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			}
			assert.Equal(t, []float64{1, 0, 0, 0, 0, 1}, proba)
		})
	}
	t.Run("binary_data_output, JSON input", func(t *testing.T) {
		header := `{"parameters":{"binary_data_output":true},"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}`
		rec := postBinary(t, hs.h, header, nil, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		n, _ := strconv.Atoi(rec.Header().Get(headerLengthHeader))
		assert.Equal(t, append(binary.LittleEndian.AppendUint32(nil, 6), "setosa"...), rec.Body.Bytes()[n:])
	})
	t.Run("binary input, JSON output", func(t *testing.T) {
		bin := leBytes(8, rows[:4]...)
		header := `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":32}}]}`
		rec := postBinary(t, hs.h, header, bin, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, jsonType, rec.Header().Get("Content-Type"))
		assert.Contains(t, rec.Body.String(), `"data":["setosa"]`)
	})
	for _, tc := range []struct{ name, header, length, want string }{
		{"header length not a number", `{}`, "x", `Inference-Header-Content-Length: \"x\" is not a length within the body's 34 bytes`},
		{"header length too long", `{}`, "35", `Inference-Header-Content-Length: \"35\" is not a length within the body's 34 bytes`},
		{"size not the bytes", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":16}}]}`, "",
			`input \"a\": binary_data_size is 16, the body holds 32 bytes after its JSON header`},
		{"size not a count", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":"32"}}]}`, "",
			`input \"a\": binary_data_size \"32\" is not a byte count`},
		{"data and binary", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[1,2,3,4],"parameters":{"binary_data_size":32}}]}`, "",
			`input \"a\" has both data and binary_data_size`},
		{"bytes nobody claims", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}]}`, "",
			`the body holds 32 bytes after its JSON header, but no input has binary_data_size`},
		{"binary shape", `{"inputs":[{"name":"a","shape":[2,4],"datatype":"FP64","parameters":{"binary_data_size":32}}]}`, "",
			`input \"a\": shape [2 4] needs 8 values of 8 bytes (64 bytes), the raw contents hold 32 bytes`},
		{"binary datatype", `{"inputs":[{"name":"a","shape":[1,4],"datatype":"INT64","parameters":{"binary_data_size":32}}]}`, "",
			`input \"a\" has datatype \"INT64\"; FP32 and FP64 are accepted`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := postBinary(t, hs.h, tc.header, leBytes(8, rows[:4]...), tc.length)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			assert.JSONEq(t, `{"error":"`+tc.want+`"}`, rec.Body.String())
		})
	}
}
