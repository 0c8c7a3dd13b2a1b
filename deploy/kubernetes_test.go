package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The parts of Kubernetes objects the test reads. sigs.k8s.io/yaml turns
// YAML into JSON, so the json tags name the fields.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec spec `json:"spec"`
}

type spec struct {
	// Deployment, PodDisruptionBudget ({matchLabels: ...}) and Service (labels)
	Selector map[string]any `json:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec podSpec `json:"spec"`
	} `json:"template"`
	// Service
	Ports []struct {
		Name       string `json:"name"`
		Port       int    `json:"port"`
		TargetPort any    `json:"targetPort"`
	} `json:"ports"`
	// HorizontalPodAutoscaler
	ScaleTargetRef struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Name       string `json:"name"`
	} `json:"scaleTargetRef"`
	MinReplicas int `json:"minReplicas"`
	MaxReplicas int `json:"maxReplicas"`
	Metrics     []struct {
		Type     string `json:"type"`
		Resource struct {
			Name string `json:"name"`
		} `json:"resource"`
	} `json:"metrics"`
	// PodDisruptionBudget
	MinAvailable any `json:"minAvailable"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `json:"runAsNonRoot"`
	} `json:"securityContext"`
	Containers []container `json:"containers"`
}

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	Env []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom any    `json:"valueFrom"`
	} `json:"env"`
	ReadinessProbe *probe `json:"readinessProbe"`
	LivenessProbe  *probe `json:"livenessProbe"`
	StartupProbe   *probe `json:"startupProbe"`
	Resources      struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool `json:"runAsNonRoot"`
		ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `json:"drop"`
		} `json:"capabilities"`
	} `json:"securityContext"`
}

type probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		Port any    `json:"port"`
	} `json:"httpGet"`
}

// goRuntimeEnv are variables the Go runtime reads, allowed beside the
// server's own.
var goRuntimeEnv = []string{"GOMEMLIMIT", "GOGC", "GOMAXPROCS", "GODEBUG"}

const k8sDir = "kubernetes"

// readObjects parses every YAML document in file.
func readObjects(t *testing.T, file string) []object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k8sDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	for _, doc := range strings.Split(string(b), "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("%s: a document without apiVersion, kind or metadata.name", file)
		}
		objs = append(objs, o)
	}
	return objs
}

// kustomization is what the test reads of kustomization.yaml.
type kustomization struct {
	Resources []string `json:"resources"`
}

// manifests returns the objects of the files kustomization.yaml lists, by
// kind.
func manifests(t *testing.T) map[string][]object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]object{}
	for _, r := range k.Resources {
		for _, o := range readObjects(t, r) {
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	// Every manifest but the canary patch is listed.
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	for _, f := range files {
		base := filepath.Base(f)
		if base != "kustomization.yaml" && base != "canary.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("kustomization.yaml does not list %s", base)
		}
	}
	return byKind
}

func one(t *testing.T, byKind map[string][]object, kind, apiVersion string) object {
	t.Helper()
	objs := byKind[kind]
	if len(objs) != 1 {
		t.Fatalf("%d %s objects, want 1", len(objs), kind)
	}
	if objs[0].APIVersion != apiVersion {
		t.Errorf("%s has apiVersion %s, want %s", kind, objs[0].APIVersion, apiVersion)
	}
	return objs[0]
}

func isTrue(b *bool) bool { return b != nil && *b }

// containerEnv returns a container's literal variables, checking that each
// name is one the server reads (or the Go runtime).
func containerEnv(t *testing.T, where string, c container, settings map[string]setting) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		if _, ok := settings[e.Name]; !ok && !slices.Contains(goRuntimeEnv, e.Name) {
			t.Errorf("%s: env %s is not a variable the server reads (serve -h lists %v)", where, e.Name, keys(settings))
		}
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

func keys(m map[string]setting) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// portOf resolves a probe's or Service's port (a name or a number) against
// a container's ports.
func portOf(p any, c container) (int, error) {
	switch v := p.(type) {
	case float64:
		return int(v), nil
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
		for _, cp := range c.Ports {
			if cp.Name == v {
				return cp.ContainerPort, nil
			}
		}
		return 0, fmt.Errorf("no container port is named %q", v)
	}
	return 0, fmt.Errorf("port %v is neither a number nor a name", p)
}

func TestKubernetesManifests(t *testing.T) {
	needBinary(t)
	settings, _ := serverSettings(t, serveBin)
	defPort, _ := strconv.Atoi(settings["MPS_API_PORT"].def)
	byKind := manifests(t)

	dep := one(t, byKind, "Deployment", "apps/v1")
	pod := dep.Spec.Template
	if !subset(selectorLabels(dep.Spec.Selector), pod.Metadata.Labels) {
		t.Errorf("the Deployment's selector does not match its pod labels %v", pod.Metadata.Labels)
	}
	if !isTrue(pod.Spec.SecurityContext.RunAsNonRoot) {
		t.Error("the pod's securityContext does not set runAsNonRoot: true")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	grpcPort, _ := strconv.Atoi(settings["MPS_GRPC_PORT"].def)
	wantPorts := map[string]int{"http": defPort, "grpc": grpcPort}
	if len(c.Ports) != len(wantPorts) {
		t.Errorf("container ports %+v, want http on the server's port %d and grpc on %d", c.Ports, defPort, grpcPort)
	}
	for _, cp := range c.Ports {
		if want, ok := wantPorts[cp.Name]; !ok || cp.ContainerPort != want {
			t.Errorf("container port %s %d, want http on %d and grpc on %d", cp.Name, cp.ContainerPort, defPort, grpcPort)
		}
	}
	sc := c.SecurityContext
	if !isTrue(sc.RunAsNonRoot) || !isTrue(sc.ReadOnlyRootFilesystem) || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container securityContext %+v: want runAsNonRoot, readOnlyRootFilesystem, no privilege escalation, capabilities dropped", sc)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
			t.Errorf("container resources %+v: want requests and limits of %s", c.Resources, r)
		}
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/ready" {
		t.Errorf("readinessProbe %s, want httpGet /ready", probePath(c.ReadinessProbe))
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/health" {
		t.Errorf("livenessProbe %s, want httpGet /health", probePath(c.LivenessProbe))
	}
	env := containerEnv(t, "deployment.yaml", c, settings)
	if p, ok := env["MPS_API_PORT"]; ok && p != strconv.Itoa(defPort) {
		t.Errorf("MPS_API_PORT=%s, but the container port is %d", p, defPort)
	}

	// The probes' paths answer 200 on the real server run with the
	// container's environment, on the port they name.
	srv, err := startServer(t, serveBin, env)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		port, err := portOf(p.HTTPGet.Port, c)
		if err != nil || port != defPort {
			t.Errorf("%s probe port %v: %d, %v; want the server's port %d", name, p.HTTPGet.Port, port, err, defPort)
		}
		if status, body := srv.get(t, p.HTTPGet.Path); status != 200 {
			t.Errorf("%s probe: GET %s answers %d %s, want 200", name, p.HTTPGet.Path, status, body)
		}
	}
	// The model the Deployment asks for is the one served.
	if want := env["MPS_MODEL_TYPE"]; want != "" {
		if _, body := srv.get(t, "/models"); !strings.Contains(body, `"`+want+`"`) {
			t.Errorf("MPS_MODEL_TYPE=%s, but /models answers %s", want, body)
		}
	}

	svc := one(t, byKind, "Service", "v1")
	if !subset(selectorLabels(svc.Spec.Selector), pod.Metadata.Labels) {
		t.Errorf("the Service's selector does not match the pod labels")
	}
	if len(svc.Spec.Ports) != len(wantPorts) {
		t.Errorf("the Service has %d ports, want http and grpc", len(svc.Spec.Ports))
	}
	for _, p := range svc.Spec.Ports {
		if port, err := portOf(p.TargetPort, c); err != nil || port != wantPorts[p.Name] {
			t.Errorf("Service port %s targets %v (%d, %v), want the server's %s port %d", p.Name, p.TargetPort, port, err, p.Name, wantPorts[p.Name])
		}
	}

	hpa := one(t, byKind, "HorizontalPodAutoscaler", "autoscaling/v2")
	ref := hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != dep.Metadata.Name || ref.APIVersion != "apps/v1" {
		t.Errorf("the HPA scales %+v, want the Deployment %s", ref, dep.Metadata.Name)
	}
	if hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < hpa.Spec.MinReplicas ||
		len(hpa.Spec.Metrics) == 0 || hpa.Spec.Metrics[0].Resource.Name != "cpu" {
		t.Errorf("HPA spec %+v, want at least 2 replicas, scaled on CPU", hpa.Spec)
	}

	pdb := one(t, byKind, "PodDisruptionBudget", "policy/v1")
	if !subset(selectorLabels(pdb.Spec.Selector), pod.Metadata.Labels) || pdb.Spec.MinAvailable == nil {
		t.Errorf("the PodDisruptionBudget %+v does not cover the pods with minAvailable", pdb.Spec)
	}
}

// The canary patch changes only MPS_MODEL_TYPE, to an A/B split the server
// must accept.
func TestKubernetesCanary(t *testing.T) {
	needBinary(t)
	settings, _ := serverSettings(t, serveBin)
	objs := readObjects(t, "canary.yaml")
	if len(objs) != 1 || objs[0].Kind != "Deployment" || len(objs[0].Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("canary.yaml should patch one container of the Deployment: %+v", objs)
	}
	dep := one(t, manifests(t), "Deployment", "apps/v1")
	c := objs[0].Spec.Template.Spec.Containers[0]
	if objs[0].Metadata.Name != dep.Metadata.Name || c.Name != dep.Spec.Template.Spec.Containers[0].Name {
		t.Errorf("canary.yaml patches %s/%s, the Deployment is %s/%s", objs[0].Metadata.Name, c.Name,
			dep.Metadata.Name, dep.Spec.Template.Spec.Containers[0].Name)
	}
	env := containerEnv(t, "canary.yaml", c, settings)
	if len(env) != 1 || !strings.Contains(env["MPS_MODEL_TYPE"], "=") {
		t.Fatalf("canary.yaml sets %v, want only MPS_MODEL_TYPE, as a split such as decision_tree=90,xgboost=10", env)
	}
	// The patched Deployment's environment: the base's, with the split.
	patched := containerEnv(t, "deployment.yaml", dep.Spec.Template.Spec.Containers[0], settings)
	patched["MPS_MODEL_TYPE"] = env["MPS_MODEL_TYPE"]
	srv, err := startServer(t, serveBin, patched)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := srv.get(t, "/ready"); status != 200 {
		t.Errorf("with the canary split: GET /ready answers %d %s", status, body)
	}
}

// subset reports whether every label of sel is in labels, with its value.
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// selectorLabels returns a selector's labels: its matchLabels, or for a
// Service the selector itself.
func selectorLabels(sel map[string]any) map[string]string {
	if ml, ok := sel["matchLabels"].(map[string]any); ok {
		sel = ml
	}
	labels := map[string]string{}
	for k, v := range sel {
		if s, ok := v.(string); ok {
			labels[k] = s
		}
	}
	return labels
}

// probePath describes a probe for messages.
func probePath(p *probe) string {
	switch {
	case p == nil:
		return "missing"
	case p.HTTPGet == nil:
		return "without httpGet"
	}
	return "httpGet " + p.HTTPGet.Path
}
