package main

import (
	"encoding/json"
	"strings"
)

// openAPI describes the API in OpenAPI 3.0 for the serving model: the
// /predict request's properties are the model's features and the
// probabilities' keys are its classes, so the docs of a model with other
// features show those.
func (s *Server) openAPI(c *served) []byte {
	type obj = map[string]any
	ref := func(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
	content := func(schema obj) obj { return obj{jsonType: obj{"schema": schema}} }
	resp := func(desc string, schema obj) obj { return obj{"description": desc, "content": content(schema)} }
	detailErr := func(desc string) obj { return resp(desc, ref("HTTPError")) }
	v2Err := func(desc string) obj { return resp(desc, ref("InferenceErrorResponse")) }
	positive := !s.opts.AllowNonPositive

	features := obj{}
	example := obj{}
	for _, f := range c.info.Features {
		p := obj{"title": title(f), "type": "number"}
		if positive {
			p["minimum"], p["exclusiveMinimum"] = 0, true
		}
		features[f] = p
		example[f] = 1.0
	}
	probs := obj{}
	for _, cl := range c.info.Classes {
		probs[cl] = obj{"type": "number", "minimum": 0, "maximum": 1}
	}
	predictResult := obj{
		"type":     "object",
		"required": []string{"prediction"},
		"properties": obj{
			"prediction":    obj{"title": "Prediction", "type": "string", "enum": c.info.Classes},
			"probabilities": obj{"type": "object", "properties": probs, "additionalProperties": false},
		},
	}
	schemas := obj{
		"PredictRequest": obj{
			"title": "PredictRequest", "type": "object", "required": c.info.Features,
			"properties": features, "example": example,
		},
		"PredictResponse": obj{
			"allOf": []any{ref("PredictResult"), obj{"type": "object", "properties": obj{"model": ref("ModelIdentity")}}},
		},
		"PredictResult": predictResult,
		"ModelIdentity": obj{
			"type": "object", "required": []string{"kind", "name", "version"},
			"properties": obj{"kind": obj{"type": "string"}, "name": obj{"type": "string"}, "version": obj{"type": "string"}},
		},
		"BatchRequest": obj{
			"type": "object", "required": []string{"instances"},
			"properties": obj{"instances": obj{"type": "array", "items": ref("PredictRequest"),
				"minItems": 1, "maxItems": s.opts.MaxBatch}},
		},
		"BatchResponse": obj{
			"type": "object", "required": []string{"predictions", "errors", "model"},
			"properties": obj{
				"predictions": obj{"type": "array", "items": obj{"oneOf": []any{ref("PredictResult"), ref("HTTPValidationError")}},
					"description": "One result per instance, in order: a prediction, or that instance's validation errors."},
				"errors": obj{"type": "integer", "description": "How many instances failed validation."},
				"model":  ref("ModelIdentity"),
			},
		},
		"ValidationError": obj{
			"title": "ValidationError", "type": "object", "required": []string{"loc", "msg", "type"},
			"properties": obj{
				"loc":  obj{"title": "Location", "type": "array", "items": obj{"anyOf": []any{obj{"type": "string"}, obj{"type": "integer"}}}},
				"msg":  obj{"title": "Message", "type": "string"},
				"type": obj{"title": "Error Type", "type": "string"},
				"ctx":  obj{"type": "object", "additionalProperties": true},
			},
		},
		"HTTPValidationError": obj{
			"title": "HTTPValidationError", "type": "object", "required": []string{"detail"},
			"properties": obj{"detail": obj{"title": "Detail", "type": "array", "items": ref("ValidationError")}},
		},
		"HTTPError": obj{
			"type": "object", "required": []string{"detail"},
			"properties": obj{"detail": obj{"type": "string"}},
		},
		"Health": obj{"type": "object", "required": []string{"status"}, "properties": obj{"status": obj{"type": "string", "enum": []string{"healthy"}}}},
		"Ready": obj{"type": "object", "required": []string{"status"}, "properties": obj{
			"status": obj{"type": "string", "enum": []string{"ready", "unavailable"}}, "model": obj{"type": "string"}}},
		"Models": obj{"type": "object", "required": []string{"models"}, "properties": obj{
			"models": obj{"type": "array", "items": ref("ModelInfo")}}},
		"ModelInfo": obj{"type": "object", "required": []string{"name", "kind", "version", "features", "classes", "metrics", "source"},
			"properties": obj{
				"name": obj{"type": "string"}, "kind": obj{"type": "string", "enum": []string{"heuristic", "decision_tree", "random_forest", "xgboost"}},
				"version": obj{"type": "string"}, "features": obj{"type": "array", "items": obj{"type": "string"}},
				"classes": obj{"type": "array", "items": obj{"type": "string"}},
				"metrics": obj{"type": "array", "items": ref("Metric")},
				"sha256":  obj{"type": "string"}, "created": obj{"type": "string", "format": "date-time"},
				"source": obj{"type": "string", "enum": []string{"registry", "file"}},
			}},
		"Metric": obj{"type": "object", "required": []string{"name", "method", "value", "source"}, "properties": obj{
			"name": obj{"type": "string"}, "method": obj{"type": "string"}, "value": obj{"type": "number"},
			"std": obj{"type": "number"}, "source": obj{"type": "string"}}},
		// Open Inference Protocol
		"InferenceErrorResponse": obj{"type": "object", "required": []string{"error"}, "properties": obj{"error": obj{"type": "string"}}},
		"ServerLiveResponse":     obj{"type": "object", "required": []string{"live"}, "properties": obj{"live": obj{"type": "boolean"}}},
		"ServerReadyResponse":    obj{"type": "object", "required": []string{"ready"}, "properties": obj{"ready": obj{"type": "boolean"}}},
		"ModelReadyResponse": obj{"type": "object", "required": []string{"name", "ready"}, "properties": obj{
			"name": obj{"type": "string"}, "ready": obj{"type": "boolean"}}},
		"MetadataServerResponse": obj{"type": "object", "required": []string{"name", "version", "extensions"}, "properties": obj{
			"name": obj{"type": "string"}, "version": obj{"type": "string"}, "extensions": obj{"type": "array", "items": obj{"type": "string"}}}},
		"MetadataTensor": obj{"type": "object", "required": []string{"name", "datatype", "shape"}, "properties": obj{
			"name": obj{"type": "string"}, "datatype": obj{"type": "string"}, "shape": obj{"type": "array", "items": obj{"type": "integer"}}}},
		"MetadataModelResponse": obj{"type": "object", "required": []string{"name", "platform"}, "properties": obj{
			"name": obj{"type": "string"}, "versions": obj{"type": "array", "items": obj{"type": "string"}},
			"platform": obj{"type": "string"}, "inputs": obj{"type": "array", "items": ref("MetadataTensor")},
			"outputs": obj{"type": "array", "items": ref("MetadataTensor")}}},
		"Parameters": obj{"type": "object", "additionalProperties": true},
		"InferenceRequest": obj{"type": "object", "required": []string{"inputs"}, "properties": obj{
			"id": obj{"type": "string"}, "parameters": ref("Parameters"),
			"inputs": obj{"type": "array", "items": ref("RequestInput")},
			"outputs": obj{"type": "array", "items": obj{"type": "object", "required": []string{"name"}, "properties": obj{
				"name": obj{"type": "string", "enum": []string{outputLabel, outputProba}}, "parameters": ref("Parameters")}}}},
			"example": obj{"inputs": []any{obj{"name": "input", "shape": []int{1, len(c.info.Features)}, "datatype": "FP64",
				"data": exampleRow(c.info.Features, example)}}, "outputs": []any{obj{"name": outputLabel}, obj{"name": outputProba}}}},
		"RequestInput": obj{"type": "object", "required": []string{"name", "shape", "datatype", "data"}, "properties": obj{
			"name": obj{"type": "string"}, "shape": obj{"type": "array", "items": obj{"type": "integer"}},
			"datatype":   obj{"type": "string", "enum": []string{"FP32", "FP64"}},
			"parameters": ref("Parameters"),
			"data":       ref("TensorData")}},
		"TensorData": obj{"type": "array", "items": obj{"anyOf": []any{obj{"type": "number"}, obj{"type": "string"}, obj{"type": "array", "items": obj{}}}},
			"description": "Row-major values, flat or nested."},
		"ResponseOutput": obj{"type": "object", "required": []string{"name", "shape", "datatype", "data"}, "properties": obj{
			"name": obj{"type": "string"}, "shape": obj{"type": "array", "items": obj{"type": "integer"}},
			"datatype": obj{"type": "string"}, "parameters": ref("Parameters"), "data": ref("TensorData")}},
		"InferenceResponse": obj{"type": "object", "required": []string{"model_name", "outputs"}, "properties": obj{
			"model_name": obj{"type": "string"}, "model_version": obj{"type": "string"}, "id": obj{"type": "string"},
			"parameters": ref("Parameters"), "outputs": obj{"type": "array", "items": ref("ResponseOutput")}}},
	}
	nameParam := obj{"name": "name", "in": "path", "required": true, "schema": obj{"type": "string"},
		"description": "The serving model's name (GET /models)."}
	versionParam := obj{"name": "version", "in": "path", "required": true, "schema": obj{"type": "string"}}
	idHeader := obj{"X-Request-ID": obj{"description": "The request's id: the client's, or a generated one.", "schema": obj{"type": "string"}}}
	withID := func(r obj) obj { r["headers"] = idHeader; return r }
	tooLarge := detailErr("Body larger than the limit.")
	paths := obj{
		"/predict": obj{"post": obj{
			"summary": "Predict", "operationId": "predict_predict_post", "tags": []string{"prediction"},
			"description": "Classifies one row of named features with the serving model (" + c.name + ").",
			"requestBody": obj{"required": true, "content": content(ref("PredictRequest"))},
			"responses": obj{
				"200": withID(resp("The predicted class, its probabilities and the model that answered.", ref("PredictResponse"))),
				"413": tooLarge, "422": resp("Validation Error", ref("HTTPValidationError")),
				"400": detailErr("Body is not UTF-8."), "503": detailErr("No model is loaded."), "500": detailErr("Internal error."),
			},
		}},
		"/predict/batch": obj{"post": obj{
			"summary": "Predict a batch", "operationId": "predict_batch", "tags": []string{"prediction"},
			"description": "Classifies up to " + itoa(s.opts.MaxBatch) + " rows; one result per row, rows that fail validation report their errors in place.",
			"requestBody": obj{"required": true, "content": content(ref("BatchRequest"))},
			"responses": obj{
				"200": resp("One result per instance.", ref("BatchResponse")),
				"413": tooLarge, "422": resp("The envelope is invalid.", ref("HTTPValidationError")),
				"400": detailErr("Body is not UTF-8."), "503": detailErr("No model is loaded."), "500": detailErr("Internal error."),
			},
		}},
		"/health": obj{"get": obj{"summary": "Health", "operationId": "health", "tags": []string{"operations"},
			"responses": obj{"200": resp("The process is up.", ref("Health"))}}},
		"/ready": obj{"get": obj{"summary": "Readiness", "operationId": "ready", "tags": []string{"operations"},
			"responses": obj{"200": resp("A model is loaded and serving.", ref("Ready")),
				"503": resp("No model, or shutting down.", ref("Ready"))}}},
		"/models": obj{"get": obj{"summary": "Loaded models", "operationId": "models", "tags": []string{"operations"},
			"responses": obj{"200": resp("The serving model with the metrics research measured.", ref("Models"))}}},
		"/metrics": obj{"get": obj{"summary": "Prometheus metrics", "operationId": "metrics", "tags": []string{"operations"},
			"responses": obj{"200": obj{"description": "Prometheus text format.", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}}}},
		"/v2/health/live": obj{"get": obj{"summary": "Server live", "operationId": "v2_live", "tags": []string{"open inference protocol"},
			"responses": obj{"200": resp("Live.", ref("ServerLiveResponse"))}}},
		"/v2/health/ready": obj{"get": obj{"summary": "Server ready", "operationId": "v2_ready", "tags": []string{"open inference protocol"},
			"responses": obj{"200": resp("Ready.", ref("ServerReadyResponse")), "503": resp("Not ready.", ref("ServerReadyResponse"))}}},
		"/v2": obj{"get": obj{"summary": "Server metadata", "operationId": "v2_server_metadata", "tags": []string{"open inference protocol"},
			"responses": obj{"200": resp("Server metadata.", ref("MetadataServerResponse"))}}},
	}
	for _, versioned := range []bool{false, true} {
		prefix, params, suffix := "/v2/models/{name}", []any{nameParam}, ""
		if versioned {
			prefix, params, suffix = prefix+"/versions/{version}", []any{nameParam, versionParam}, "_version"
		}
		notFound := v2Err("No such model (or version) is served.")
		paths[prefix] = obj{"get": obj{"summary": "Model metadata", "operationId": "v2_model_metadata" + suffix,
			"tags": []string{"open inference protocol"}, "parameters": params,
			"responses": obj{"200": resp("Model metadata.", ref("MetadataModelResponse")), "404": notFound, "503": v2Err("No model is loaded.")}}}
		paths[prefix+"/ready"] = obj{"get": obj{"summary": "Model ready", "operationId": "v2_model_ready" + suffix,
			"tags": []string{"open inference protocol"}, "parameters": params,
			"responses": obj{"200": resp("Ready.", ref("ModelReadyResponse")), "503": resp("Not ready.", ref("ModelReadyResponse")),
				"404": notFound}}}
		paths[prefix+"/infer"] = obj{"post": obj{"summary": "Infer", "operationId": "v2_infer" + suffix,
			"tags": []string{"open inference protocol"}, "parameters": params,
			"description": "One input tensor, FP32 or FP64, shape [N, " + itoa(len(c.info.Features)) + "] (features " +
				strings.Join(c.info.Features, ", ") + "), N at most " + itoa(s.opts.MaxBatch) +
				". Answers the output \"label\" by default; list \"probabilities\" in outputs to get them too.",
			"requestBody": obj{"required": true, "content": content(ref("InferenceRequest"))},
			"responses": obj{"200": resp("Inference result.", ref("InferenceResponse")),
				"400": v2Err("Invalid request."), "404": notFound, "413": v2Err("Body larger than the limit."),
				"500": v2Err("Internal error."), "503": v2Err("No model is loaded.")}}}
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "ML Production Service",
			"version":     orDefault(s.opts.Version, "dev"),
			"description": "Iris-style tabular classification, served by the classify library. Serving model: " + c.name + " (" + string(c.info.Kind) + ", version " + orDefault(c.info.Version, "unversioned") + ").",
		},
		"paths":      paths,
		"components": obj{"schemas": schemas},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("serve: OpenAPI document: " + err.Error()) // maps of strings, numbers and slices always encode
	}
	return b
}

// title turns "sepal_length" into "Sepal Length", as pydantic titles fields.
func title(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func exampleRow(features []string, example map[string]any) []any {
	row := make([]any, len(features))
	for i, f := range features {
		row[i] = example[f]
	}
	return row
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
