package classifyhttp

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ml-production-service/classify"
)

// openAPI describes the API in OpenAPI 3.0 for the serving models: the
// /predict request's properties are the models' features (every variant
// takes the same) and the predictions and probabilities' keys are the
// classes of any variant, so the docs of a model with other features show
// those.
func (h *Handler) openAPI(v *view) []byte {
	c := v.primary()
	classes := []string{}
	var variants []string
	allMissing, anyMissing := true, false // whether the variants take missing values
	for _, sv := range v.served {
		if sv == nil {
			continue
		}
		takes := "missing values refused"
		if sv.info.Missing {
			takes = "missing values accepted"
		}
		allMissing, anyMissing = allMissing && sv.info.Missing, anyMissing || sv.info.Missing
		variants = append(variants, sv.variant+" ("+sv.name+", "+string(sv.info.Kind)+", version "+orDefault(sv.info.Version, "unversioned")+", "+takes+")")
		for _, cl := range sv.info.Classes {
			if !slices.Contains(classes, cl) {
				classes = append(classes, cl)
			}
		}
	}
	type obj = map[string]any
	ref := func(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
	content := func(schema obj) obj { return obj{jsonType: obj{"schema": schema}} }
	resp := func(desc string, schema obj) obj { return obj{"description": desc, "content": content(schema)} }
	detailErr := func(desc string) obj { return resp(desc, ref("HTTPError")) }
	v2Err := func(desc string) obj { return resp(desc, ref("InferenceErrorResponse")) }
	positive := !h.opts.AllowNonPositive

	features := obj{}
	example := obj{}
	for _, f := range c.info.Features {
		p := obj{"title": title(f), "type": "number"}
		if positive {
			p["minimum"], p["exclusiveMinimum"] = 0, true
		}
		switch {
		case allMissing:
			p["nullable"] = true
			p["description"] = "null (or NaN, or \"NaN\") is a missing value, which the model routes as its reference library does."
		case anyMissing:
			p["description"] = "null (or NaN) is a missing value for the variants that take them (GET /models: missing_values); the others answer 422."
		}
		features[f] = p
		example[f] = 1.0
	}
	probs := obj{}
	for _, cl := range classes {
		probs[cl] = obj{"type": "number", "minimum": 0, "maximum": 1}
	}
	byOutput := func(desc string, value obj) obj {
		return obj{"type": "object", "additionalProperties": value, "description": desc}
	}
	number := obj{"type": "number"}
	predictResult := obj{
		"type":     "object",
		"required": []string{"prediction"},
		"properties": obj{
			"prediction":    obj{"title": "Prediction", "type": "string", "enum": classes},
			"probabilities": obj{"type": "object", "properties": probs, "additionalProperties": false},
			"contributions": byOutput("Only when contributions were asked for (tree models): per raw output (a class label; a binary boosted model's positive class "+
				"alone), each feature's TreeSHAP contribution to it. Raw outputs are the class probabilities of a decision tree or random forest, "+
				"the margins (before the link function) of a boosted model: GET /models says which (contributions.raw_output).",
				obj{"type": "object", "additionalProperties": number}),
			"expected_value": byOutput("Only with contributions: per raw output, the bias (expected value) the contributions add to.", number),
			"raw_output":     byOutput("Only with contributions: per raw output, expected_value plus the row's contributions: the raw output they explain.", number),
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
			"properties": obj{"kind": obj{"type": "string"}, "name": obj{"type": "string"}, "version": obj{"type": "string"},
				"variant": obj{"type": "string", "description": "The variant of the split (MPS_MODEL_TYPE) that answered."}},
		},
		"BatchRequest": obj{
			"type": "object", "required": []string{"instances"},
			"properties": obj{"instances": obj{"type": "array", "items": ref("PredictRequest"),
				"minItems": 1, "maxItems": h.opts.MaxBatch},
				"contributions": obj{"type": "boolean", "default": false,
					"description": "Answer each row's feature contributions too (as ?contributions=true does); only a tree model can (422 otherwise)."}},
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
			"models":          obj{"type": "array", "items": ref("ModelInfo")},
			"split":           obj{"type": "string", "description": "The split in force, as MPS_MODEL_TYPE writes it: name=weight,..."},
			"split_header":    obj{"type": "string", "description": "The request header holding the sticky key."},
			"shadow_fraction": obj{"type": "number", "description": "The share of requests the shadow model also answers."}}},
		"ModelInfo": obj{"type": "object", "required": []string{"name", "kind", "version", "features", "classes", "metrics", "source", "missing_values"},
			"properties": obj{
				"name": obj{"type": "string"}, "kind": obj{"type": "string", "enum": kindNames()},
				"version": obj{"type": "string"}, "features": obj{"type": "array", "items": obj{"type": "string"}},
				"classes": obj{"type": "array", "items": obj{"type": "string"}},
				"metrics": obj{"type": "array", "items": ref("Metric")},
				"sha256":  obj{"type": "string"}, "created": obj{"type": "string", "format": "date-time"},
				"source":  obj{"type": "string", "enum": []string{"registry", "file"}},
				"role":    obj{"type": "string", "enum": []string{"primary", "shadow"}},
				"variant": obj{"type": "string"}, "weight": obj{"type": "integer"},
				"missing_values": obj{"type": "boolean", "description": "Whether the model takes missing values: a feature given as null (or NaN) is routed as its " +
					"reference library routes it. When false, such a row is refused: 422 from /predict (an error in place in /predict/batch), 400 from /v2 infer."},
				"contributions": obj{"type": "object", "required": []string{"outputs", "raw_output"},
					"description": "Present for a model that explains its predictions with feature contributions (the tree models): the raw outputs they are of.",
					"properties": obj{"outputs": obj{"type": "array", "items": obj{"type": "string"}},
						"raw_output": obj{"type": "string", "enum": []string{rawProbability, rawMargin}}}},
				"importance": ref("Importance"),
			}},
		"Importance": obj{"type": "object", "required": []string{"gain_kind", "splits", "gain"},
			"description": "The tree model's importances as its library reports them, keyed by feature.",
			"properties": obj{
				"gain_kind": obj{"type": "string", "description": "What gain is: XGBoost's total_gain, LightGBM's gain, scikit-learn's normalised impurity decrease, ..."},
				"splits":    obj{"type": "object", "additionalProperties": obj{"type": "integer"}, "description": "How many splits test each feature, over all trees."},
				"gain":      obj{"type": "object", "additionalProperties": number}}},
		"ImportanceResponse": obj{"type": "object", "required": []string{"rows", "raw_output", "mean_abs_contributions", "expected_value", "model"},
			"properties": obj{
				"rows":       obj{"type": "integer", "description": "How many rows the means are over."},
				"raw_output": obj{"type": "string", "enum": []string{rawProbability, rawMargin}},
				"mean_abs_contributions": byOutput("Per raw output, per feature, the mean absolute contribution over the rows (mean |SHAP|).",
					obj{"type": "object", "additionalProperties": number}),
				"expected_value": byOutput("Per raw output, the bias.", number),
				"importance":     ref("Importance"),
				"model":          ref("ModelIdentity")}},
		"ReloadRequest": obj{"type": "object", "additionalProperties": false, "properties": obj{
			"model_type": obj{"type": "string", "description": "A new split, as MPS_MODEL_TYPE takes it (\"decision_tree=0,xgboost=100\", or one model's name). Absent: keep the split in force.",
				"example": "decision_tree=0,xgboost=100"}}},
		"ReloadResponse": obj{"type": "object", "required": []string{"status", "trigger", "split", "variants"}, "properties": obj{
			"status":   obj{"type": "string", "enum": []string{"reloaded", "failed"}},
			"trigger":  obj{"type": "string"},
			"split":    obj{"type": "string", "description": "The split in force after the reload."},
			"variants": obj{"type": "array", "items": ref("ServingVariant"), "description": "What serves now."},
			"shadow":   ref("ServingModel"),
			"error":    obj{"type": "string", "description": "Why the reload failed; the models serving before keep serving."}}},
		"ServingVariant": obj{"allOf": []any{ref("ServingModel"), obj{"type": "object", "required": []string{"variant", "weight"}, "properties": obj{
			"variant": obj{"type": "string"}, "weight": obj{"type": "integer"}}}}},
		"ServingModel": obj{"type": "object", "required": []string{"name", "kind", "version"}, "properties": obj{
			"name": obj{"type": "string"}, "kind": obj{"type": "string"}, "version": obj{"type": "string"}}},
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
				"name": obj{"type": "string", "enum": []string{outputLabel, outputProba, outputContributions}}, "parameters": ref("Parameters")}}}},
			"example": obj{"inputs": []any{obj{"name": "input", "shape": []int{1, len(c.info.Features)}, "datatype": "FP64",
				"data": exampleRow(c.info.Features, example)}}, "outputs": []any{obj{"name": outputLabel}, obj{"name": outputProba}}}},
		"RequestInput": obj{"type": "object", "required": []string{"name", "shape", "datatype", "data"}, "properties": obj{
			"name": obj{"type": "string"}, "shape": obj{"type": "array", "items": obj{"type": "integer"}},
			"datatype":   obj{"type": "string", "enum": []string{"FP32", "FP64"}},
			"parameters": ref("Parameters"),
			"data":       ref("TensorData")}},
		"TensorData": obj{"type": "array", "items": obj{"anyOf": []any{obj{"type": "number", "nullable": true}, obj{"type": "string"}, obj{"type": "array", "items": obj{"nullable": true}}}},
			"description": "Row-major values: flat (N×F numbers) or nested exactly as the shape is (N arrays of F numbers); any other nesting answers 400. " +
				"In an input, null (or NaN) is a missing value: taken by a model whose missing_values is true (GET /models), answered 400 by any other."},
		"ResponseOutput": obj{"type": "object", "required": []string{"name", "shape", "datatype", "data"}, "properties": obj{
			"name": obj{"type": "string"}, "shape": obj{"type": "array", "items": obj{"type": "integer"}},
			"datatype": obj{"type": "string"}, "parameters": ref("Parameters"), "data": ref("TensorData")}},
		"InferenceResponse": obj{"type": "object", "required": []string{"model_name", "outputs"}, "properties": obj{
			"model_name": obj{"type": "string"}, "model_version": obj{"type": "string"}, "id": obj{"type": "string"},
			"parameters": ref("Parameters"), "outputs": obj{"type": "array", "items": ref("ResponseOutput")}}},
	}
	nameParam := obj{"name": "name", "in": "path", "required": true, "schema": obj{"type": "string"},
		"description": "A variant's name, or its model's name (GET /models); every variant is addressed directly, the split does not apply."}
	versionParam := obj{"name": "version", "in": "path", "required": true, "schema": obj{"type": "string"}}
	idHeader := obj{"X-Request-ID": obj{"description": "The request's id: the client's, or a generated one.", "schema": obj{"type": "string"}}}
	modelHeaders := obj{
		"X-Request-ID":    idHeader["X-Request-ID"],
		"X-Model-Variant": obj{"description": "The variant of the split that answered.", "schema": obj{"type": "string"}},
		"X-Model-Version": obj{"description": "The version of the model that answered (absent when it has none).", "schema": obj{"type": "string"}},
	}
	withModel := func(r obj) obj { r["headers"] = modelHeaders; return r }
	keyParam := obj{"name": h.opts.SplitHeader, "in": "header", "required": false, "schema": obj{"type": "string"},
		"description": "Sticky key of the A/B split (a client or user id): the same key always reaches the same variant, across requests and restarts. Without it, the variant is drawn at random by weight."}
	tooLarge := detailErr("Body larger than the limit.")
	contribParam := obj{"name": "contributions", "in": "query", "required": false, "schema": obj{"type": "boolean", "default": false},
		"description": "Answer each row's feature contributions (TreeSHAP) too: contributions, expected_value and raw_output. Only a tree model can: " +
			"for any other, or an artifact without node covers, 422 at [\"query\", \"contributions\"]."}
	paths := obj{
		"/predict": obj{"post": obj{
			"summary": "Predict", "operationId": "predict_predict_post", "tags": []string{"prediction"},
			"description": "Classifies one row of named features with a variant of the split (" + strings.Join(variants, "; ") + "), chosen by the " + h.opts.SplitHeader + " header when present.",
			"parameters":  []any{keyParam, contribParam},
			"requestBody": obj{"required": true, "content": content(ref("PredictRequest"))},
			"responses": obj{
				"200": withModel(resp("The predicted class, its probabilities and the model that answered.", ref("PredictResponse"))),
				"413": tooLarge, "422": resp("Validation Error", ref("HTTPValidationError")),
				"400": detailErr("Body is not UTF-8."), "503": detailErr("No model is loaded."), "500": detailErr("Internal error."),
			},
		}},
		"/predict/batch": obj{"post": obj{
			"summary": "Predict a batch", "operationId": "predict_batch", "tags": []string{"prediction"},
			"description": "Classifies up to " + itoa(h.opts.MaxBatch) + " rows with one variant of the split, chosen as for /predict; one result per row, rows that fail validation report their errors in place.",
			"parameters":  []any{keyParam, contribParam},
			"requestBody": obj{"required": true, "content": content(ref("BatchRequest"))},
			"responses": obj{
				"200": withModel(resp("One result per instance.", ref("BatchResponse"))),
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
			"responses": obj{"200": resp("The serving models (one per variant of the split, and the shadow model) with the metrics research measured.", ref("Models"))}}},
		"/models/{name}/importance": obj{"post": obj{"summary": "Feature importance over rows", "operationId": "model_importance", "tags": []string{"operations"},
			"description": "The mean absolute contribution (mean |SHAP|) of each feature to each raw output over the rows given (up to " + itoa(h.opts.MaxBatch) +
				", in the /predict/batch envelope), with the library's split and gain importances. Every row must be valid (422 lists every row's errors otherwise). " +
				"Only a tree model can (422 otherwise).",
			"parameters":  []any{obj{"name": "name", "in": "path", "required": true, "schema": obj{"type": "string"}, "description": "A variant's name, or its model's name (GET /models)."}},
			"requestBody": obj{"required": true, "content": content(ref("BatchRequest"))},
			"responses": obj{
				"200": withModel(resp("The means and importances.", ref("ImportanceResponse"))),
				"404": detailErr("No such model is served."), "413": tooLarge,
				"422": resp("A row is invalid, or the model cannot explain.", ref("HTTPValidationError")),
				"400": detailErr("Body is not UTF-8."), "503": detailErr("No model is loaded."), "500": detailErr("Internal error."),
			}}},
		"/admin/reload": obj{"post": obj{"summary": "Reload the models", "operationId": "admin_reload", "tags": []string{"admin"},
			"description": "Re-opens the registry and reloads every variant (checksum, parse, warm-up prediction) and the shadow model, then swaps them in; " +
				"with model_type, the split changes too. All or nothing: on any failure the models and split serving before keep serving. " +
				"Off unless the server has an admin token (MPS_ADMIN_TOKEN): then it answers 404.",
			"security":    []any{obj{"bearerAuth": []string{}}},
			"requestBody": obj{"required": false, "content": content(ref("ReloadRequest"))},
			"responses": obj{
				"200": resp("Reloaded; what serves now.", ref("ReloadResponse")),
				"401": obj{"description": "No token or a wrong one.", "headers": obj{"WWW-Authenticate": obj{"schema": obj{"type": "string"}}},
					"content": content(ref("HTTPError"))},
				"404": detailErr("Admin endpoints are off (no MPS_ADMIN_TOKEN)."),
				"413": tooLarge,
				"422": detailErr("The body is not a reload request, model_type is not a split, or it names a model the source does not hold; nothing changes."),
				"500": resp("The reload failed; the models serving before keep serving.", ref("ReloadResponse")),
			}}},
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
				strings.Join(c.info.Features, ", ") + "), N at most " + itoa(h.opts.MaxBatch) +
				". Answers the output \"label\" by default; list \"probabilities\" in outputs to get them too. " +
				"A tree model answers \"contributions\" when listed (or with the request parameter {\"contributions\": true}): FP64, shape [N, outputs, features+1], " +
				"each feature's TreeSHAP contribution to each raw output and the bias last; its parameters name the axes (outputs, features: JSON arrays as strings) " +
				"and raw_output (probability or margin). Any other model answers 400. " +
				"null (or NaN) in the data is a missing value, for a model that takes them (GET /models: missing_values); any other answers 400.",
			"requestBody": obj{"required": true, "content": content(ref("InferenceRequest"))},
			"responses": obj{"200": resp("Inference result.", ref("InferenceResponse")),
				"400": v2Err("Invalid request."), "404": notFound, "413": v2Err("Body larger than the limit."),
				"500": v2Err("Internal error."), "503": v2Err("No model is loaded.")}}}
	}
	treeDoc(paths, schemas) // trees.go: the tree pictures
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "ML Production Service",
			"version":     h.opts.Version,
			"description": "Iris-style tabular classification, served by the classify library. Split: " + v.table.Split().String() + ". Variants: " + strings.Join(variants, "; ") + ".",
		},
		"paths": paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{
			"bearerAuth": obj{"type": "http", "scheme": "bearer", "description": "The admin token (MPS_ADMIN_TOKEN)."}}},
	}
	if h.opts.Prefix != "" {
		// Paths are relative to the server's URL: under a prefix, that is
		// the prefix.
		doc["servers"] = []obj{{"url": h.opts.Prefix}}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("classifyhttp: OpenAPI document: " + err.Error()) // maps of strings, numbers and slices always encode
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

// kindNames lists the model kinds the library loads.
func kindNames() []string {
	var names []string
	for _, k := range classify.Kinds() {
		names = append(names, string(k))
	}
	return names
}
