package classifyhttp

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Every answer is JSON, errors included. Routes of the old service answer
// errors as FastAPI did, {"detail": ...}; the Open Inference Protocol routes
// (under /v2) answer {"error": "..."} as that protocol says. The exceptions
// are net/http's own answers, given before any handler runs and so beyond
// reach: 431 for headers over the limit and 400 for a malformed request
// line or header are plain text.

const jsonType = "application/json"

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	writeBody(w, status, b)
}

// jsonTypeHeader is shared by every answer; net/http only reads it.
var jsonTypeHeader = []string{jsonType}

// writeBody answers status with the JSON document b. net/http adds the
// Content-Length of a body written in one call.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonTypeHeader
	delete(h, "Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeDetail answers an error in FastAPI's shape, {"detail": msg}.
func writeDetail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"detail": msg})
}

// writeV2Error answers an error in the Open Inference Protocol's shape.
func writeV2Error(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeStatusError answers a bare status (404, 405, 413, 500) in the shape
// the path's API uses.
func writeStatusError(w http.ResponseWriter, path string, status int) {
	msg := http.StatusText(status)
	if status == http.StatusRequestEntityTooLarge {
		msg = "Request body too large"
	}
	if isV2Path(path) {
		writeV2Error(w, status, msg)
		return
	}
	writeDetail(w, status, msg)
}

func isV2Path(path string) bool { return path == "/v2" || strings.HasPrefix(path, "/v2/") }

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// appendFloat appends v as encoding/json writes a float64 (shortest
// representation, exponent only for very small or large values). NaN and
// infinities, which JSON lacks, become null.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSON appends v encoded as JSON.
func appendJSON(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func itoa(i int) string { return strconv.Itoa(i) }
