// Package kubernetes holds the example manifests; its test checks them
// against the Kubernetes API types (unknown or mistyped fields fail) and
// against what the relay needs.
package kubernetes

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

// strict decodes one YAML document into v, refusing unknown fields.
func strict(t *testing.T, name string, doc []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("\n---")) {
		t.Fatalf("%s: one document per file", name)
	}
	return b
}

// relay returns the Deployment's relay container.
func relay(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "relay" {
		t.Fatalf("containers %+v, want one named relay", cs)
	}
	return cs[0]
}

func envNames(c corev1.Container) []string {
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	return names
}

func TestDeployment(t *testing.T) {
	var d appsv1.Deployment
	strict(t, "deployment.yaml", read(t, "deployment.yaml"), &d)
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" {
		t.Errorf("%s %s", d.APIVersion, d.Kind)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	sel := d.Spec.Selector.MatchLabels
	for k, v := range sel {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the selector %s=%s does not match the pod labels %v", k, v, d.Spec.Template.Labels)
		}
	}
	pod := d.Spec.Template.Spec
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("pod security context %+v: want runAsNonRoot as 65532, the image's user", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted; the relay does not call the Kubernetes API")
	}

	c := relay(t, &d)
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("args %v", c.Args)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container security context %+v", sc)
	}

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 9090 || ports["metrics"] == 0 || ports["metrics"] == 9090 {
		t.Errorf("ports %v: want http 9090 and a metrics port of its own", ports)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if ref := env["SECRET_KEY"].ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Key != "SECRET_KEY" {
		t.Errorf("SECRET_KEY %+v: want it from a Secret", env["SECRET_KEY"])
	}
	if got, want := env["METRICS_ADDR"].Value, ":"+strconv.Itoa(int(ports["metrics"])); got != want {
		t.Errorf("METRICS_ADDR %q, want %q (the metrics port)", got, want)
	}
	if d.Spec.Template.Annotations["prometheus.io/port"] != strconv.Itoa(int(ports["metrics"])) {
		t.Errorf("scrape annotations %v", d.Spec.Template.Annotations)
	}

	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/watchdog" || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v: want GET /watchdog on the http port", name, p)
			continue
		}
		// Without the header the relay answers the contract's
		// "Invalid Health Check" error (still 200, but not a health echo).
		if len(p.HTTPGet.HTTPHeaders) != 1 || p.HTTPGet.HTTPHeaders[0].Name != "Health-Check" {
			t.Errorf("%s probe headers %v: want Health-Check", name, p.HTTPGet.HTTPHeaders)
		}
	}

	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Memory().IsZero() || lim.Memory().IsZero() || req.Memory().Cmp(*lim.Memory()) > 0 || req.Cpu().IsZero() {
		t.Errorf("resources %+v: want memory requests and limits, requests below limits, and a CPU request", c.Resources)
	}
	if gml, err := resource.ParseQuantity(strings.TrimSuffix(env["GOMEMLIMIT"].Value, "iB") + "i"); err != nil || gml.Cmp(*lim.Memory()) >= 0 {
		t.Errorf("GOMEMLIMIT %q (%v) must be below the memory limit %v", env["GOMEMLIMIT"].Value, err, lim.Memory())
	}
	if d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil || *d.Spec.Template.Spec.TerminationGracePeriodSeconds < 20 {
		t.Error("the grace period is shorter than REQUEST_TIMEOUT plus the relay's shutdown margin (20 s)")
	}
}

func TestService(t *testing.T) {
	var d appsv1.Deployment
	strict(t, "deployment.yaml", read(t, "deployment.yaml"), &d)
	var s corev1.Service
	strict(t, "service.yaml", read(t, "service.yaml"), &s)
	for k, v := range s.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the pods are labelled %v", k, v, d.Spec.Template.Labels)
		}
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("ports %+v: want the relay's http port only (not metrics)", s.Spec.Ports)
	}
}

// TestXDROverlay applies the XDR patch the way kustomize does (a strategic
// merge patch) and checks the result.
func TestXDROverlay(t *testing.T) {
	base, err := yaml.YAMLToJSON(read(t, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	patch, err := yaml.YAMLToJSON(read(t, filepath.Join("xdr", "deployment-patch.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(base, patch, appsv1.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	strict(t, "the patched Deployment", merged, &d)
	c := relay(t, &d)
	if slices.Contains(envNames(c), "SECRET_KEY") {
		t.Errorf("SECRET_KEY is still set: %v", envNames(c))
	}
	if !slices.Contains(envNames(c), "METRICS_ADDR") || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("the patch dropped more than SECRET_KEY: env %v", envNames(c))
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != "signals-relay-xdr" {
		t.Errorf("envFrom %+v: want the XDR ConfigMap", c.EnvFrom)
	}
	k := read(t, filepath.Join("xdr", "kustomization.yaml"))
	for _, want := range []string{"AUTH_MODE=xdr", "RELAY_URL=https://", "name: signals-relay-xdr", "path: deployment-patch.yaml"} {
		if !bytes.Contains(k, []byte(want)) {
			t.Errorf("xdr/kustomization.yaml lacks %q", want)
		}
	}
}
