package deploy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// kserveFields is testdata/kserve-fields.json: the field names of KServe's
// types the manifests may use (an excerpt of KServe's API, source cited in
// the file).
type kserveFields struct {
	ServingRuntimeSpec, SupportedModelFormat, InferenceServiceProtocol []string
	InferenceServiceSpec, PredictorSpec, ModelSpec, ModelFormat        []string
	StorageMountPath                                                   string `json:"storageMountPath"`
}

func readYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kserve", file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// onlyFields reports the keys of obj that allowed does not list.
func onlyFields(t *testing.T, where string, obj any, allowed []string) map[string]any {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object: %v", where, obj)
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s.%s: KServe's type has no such field (known: %s)", where, k, strings.Join(allowed, ", "))
		}
	}
	return m
}

// TestKServeManifests checks deploy/kserve/ against KServe's types (field
// names, protocol versions, the runtime an InferenceService names, the
// model format) and against the server: the ports KServe is told about are
// the ones the server listens on, every variable is one the server reads,
// a storageUri comes with MPS_MODEL_PATH at KServe's mount path, and the
// binary started with the runtime's variables answers the probes and
// serves gRPC on the port named h2c.
func TestKServeManifests(t *testing.T) {
	needBinary(t)
	var fields kserveFields
	b, err := os.ReadFile("testdata/kserve-fields.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	settings, _ := serverSettings(t, serveBin)

	rt := readYAML(t, "servingruntime.yaml")
	if rt["apiVersion"] != "serving.kserve.io/v1alpha1" || rt["kind"] != "ServingRuntime" {
		t.Fatalf("servingruntime.yaml is %v %v", rt["apiVersion"], rt["kind"])
	}
	runtimeName := rt["metadata"].(map[string]any)["name"].(string)
	spec := onlyFields(t, "ServingRuntime.spec", rt["spec"], fields.ServingRuntimeSpec)
	var formats []string
	for i, f := range spec["supportedModelFormats"].([]any) {
		m := onlyFields(t, fmt.Sprintf("supportedModelFormats[%d]", i), f, fields.SupportedModelFormat)
		formats = append(formats, fmt.Sprint(m["name"]))
	}
	var protocols []string
	for _, p := range spec["protocolVersions"].([]any) {
		protocols = append(protocols, p.(string))
		if !slices.Contains(fields.InferenceServiceProtocol, p.(string)) {
			t.Errorf("protocolVersions: %q is not one of KServe's %v", p, fields.InferenceServiceProtocol)
		}
	}
	if !slices.Contains(protocols, "v2") || !slices.Contains(protocols, "grpc-v2") {
		t.Errorf("protocolVersions %v: the server speaks v2 over REST and gRPC", protocols)
	}
	containers := spec["containers"].([]any)
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0].(map[string]any)
	if c["name"] != "kserve-container" {
		t.Errorf("container %q: KServe injects the model into the container named kserve-container", c["name"])
	}
	env := map[string]string{}
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		name := e["name"].(string)
		if _, ok := settings[name]; !ok {
			t.Errorf("env %s: the server does not read it", name)
		}
		env[name] = fmt.Sprint(e["value"])
	}
	ports := map[string]int{}
	for i, p := range c["ports"].([]any) {
		p := p.(map[string]any)
		n := int(p["containerPort"].(float64))
		ports[p["name"].(string)] = n
		if i == 0 && p["name"] != "http1" {
			t.Errorf("the first port is %v: KServe sends REST to the first port, name it http1", p["name"])
		}
	}
	portOf := func(v string) int {
		value := env[v]
		if value == "" || value == "<nil>" {
			value = settings[v].def
		}
		n, _ := strconv.Atoi(value)
		return n
	}
	if ports["http1"] != portOf("MPS_API_PORT") {
		t.Errorf("port http1 is %d, the server listens for HTTP on %d", ports["http1"], portOf("MPS_API_PORT"))
	}
	if ports["h2c"] != portOf("MPS_GRPC_PORT") {
		t.Errorf("port h2c is %d, the server listens for gRPC on %d", ports["h2c"], portOf("MPS_GRPC_PORT"))
	}
	if settings["MPS_GRPC_PORT"].def != "8001" || settings["MPS_API_PORT"].def != "8000" {
		t.Errorf("server defaults changed: HTTP %s, gRPC %s", settings["MPS_API_PORT"].def, settings["MPS_GRPC_PORT"].def)
	}
	probes := map[string]string{}
	for _, kind := range []string{"readinessProbe", "livenessProbe"} {
		p := c[kind].(map[string]any)["httpGet"].(map[string]any)
		probes[kind] = p["path"].(string)
		if int(p["port"].(float64)) != ports["http1"] {
			t.Errorf("%s port %v, want the HTTP port %d", kind, p["port"], ports["http1"])
		}
	}

	for _, file := range []string{"inferenceservice.yaml", "inferenceservice-storage.yaml"} {
		t.Run(file, func(t *testing.T) {
			isvc := readYAML(t, file)
			if isvc["apiVersion"] != "serving.kserve.io/v1beta1" || isvc["kind"] != "InferenceService" {
				t.Fatalf("%v %v", isvc["apiVersion"], isvc["kind"])
			}
			spec := onlyFields(t, "spec", isvc["spec"], fields.InferenceServiceSpec)
			pred := onlyFields(t, "spec.predictor", spec["predictor"], fields.PredictorSpec)
			model := onlyFields(t, "spec.predictor.model", pred["model"], fields.ModelSpec)
			format := onlyFields(t, "modelFormat", model["modelFormat"], fields.ModelFormat)
			if !slices.Contains(formats, fmt.Sprint(format["name"])) {
				t.Errorf("modelFormat %v: the runtime supports %v", format["name"], formats)
			}
			if model["runtime"] != runtimeName {
				t.Errorf("runtime %v, want %s", model["runtime"], runtimeName)
			}
			if p := fmt.Sprint(model["protocolVersion"]); !slices.Contains(protocols, p) {
				t.Errorf("protocolVersion %s: the runtime declares %v", p, protocols)
			}
			modelEnv := map[string]string{}
			if es, ok := model["env"].([]any); ok {
				for _, e := range es {
					e := e.(map[string]any)
					if _, ok := settings[e["name"].(string)]; !ok {
						t.Errorf("env %s: the server does not read it", e["name"])
					}
					modelEnv[e["name"].(string)] = fmt.Sprint(e["value"])
				}
			}
			if _, ok := model["storageUri"]; ok && modelEnv["MPS_MODEL_PATH"] != fields.StorageMountPath {
				t.Errorf("storageUri is downloaded to %s, but MPS_MODEL_PATH is %q", fields.StorageMountPath, modelEnv["MPS_MODEL_PATH"])
			}
			if _, ok := model["storageUri"]; !ok && modelEnv["MPS_MODEL_PATH"] != "" {
				t.Errorf("no storageUri, but MPS_MODEL_PATH=%s", modelEnv["MPS_MODEL_PATH"])
			}
		})
	}

	// The server started with the runtime's variables answers the probes
	// and speaks gRPC where the manifest says.
	srv, err := startServer(t, serveBin, env)
	if err != nil {
		t.Fatal(err)
	}
	for kind, path := range probes {
		if status, body := srv.get(t, path); status != 200 {
			t.Errorf("%s %s: %d %s", kind, path, status, body)
		}
	}
	if status, body := srv.get(t, "/v2/models/"+env["MPS_MODEL_TYPE"]+"/ready"); status != 200 {
		t.Errorf("model ready: %d %s", status, body)
	}
	if err := grpcHealthy(srv.grpcAddr, 5*time.Second); err != nil {
		t.Errorf("gRPC on the h2c port: %v", err)
	}
}

// grpcHealthy reports whether an HTTP/2 server without TLS (h2c, as gRPC
// serves) answers at addr: it sends the HTTP/2 connection preface and an
// empty SETTINGS frame and expects a SETTINGS frame back. A raw probe, so
// that the library's module does not require gRPC for a test.
func grpcHealthy(addr string, timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	preface := append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 0x4, 0, 0, 0, 0, 0)
	if _, err := conn.Write(preface); err != nil {
		return err
	}
	var header [9]byte
	if _, err := io.ReadFull(conn, header[:]); err != nil {
		return fmt.Errorf("no HTTP/2 answer: %w", err)
	}
	if header[3] != 0x4 {
		return fmt.Errorf("first frame has type %d, want SETTINGS (4)", header[3])
	}
	return nil
}
