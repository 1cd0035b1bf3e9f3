// Package kubernetes holds the relay's kustomize package; its test renders
// every kustomization with the kustomize library (what `kubectl apply -k`
// runs), decodes every rendered object strictly and case-sensitively into
// its API type, as the API server does, and checks the result against what
// the relay needs.
package kubernetes

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// root is where the package is copied in the in-memory file system.
const root = "/kubernetes"

// overlays are the variants operators apply; each is also rendered with
// every component.
var overlays = []string{"overlays/hs256", "overlays/xdr"}

// recommendedLabels are on every object (and every pod).
var recommendedLabels = map[string]string{
	"app.kubernetes.io/name":       "signals-relay",
	"app.kubernetes.io/instance":   "signals-relay",
	"app.kubernetes.io/part-of":    "signals-relay",
	"app.kubernetes.io/managed-by": "kustomize",
}

// yamlFiles lists the package's YAML files.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(os.DirFS("."), ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(name) == ".yaml" {
			names = append(names, name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// newFS copies the package's YAML files into an in-memory file system,
// passing each through edit (nil: as they are).
func newFS(t *testing.T, edit func(name string, data []byte) []byte) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	for _, name := range yamlFiles(t) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			data = edit(name, data)
		}
		if err := mem.WriteFile(path.Join(root, name), data); err != nil {
			t.Fatal(err)
		}
	}
	return mem
}

// kustomizations lists the package's kustomization directories and
// components (relative to the package).
func kustomizations(t *testing.T) (dirs, components []string) {
	t.Helper()
	for _, name := range yamlFiles(t) {
		if path.Base(name) != "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var k struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(data, &k); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k.Kind == "Component" {
			components = append(components, path.Dir(name))
		} else {
			dirs = append(dirs, path.Dir(name))
		}
	}
	return dirs, components
}

// withComponent writes an overlay of overlay with component, the way the
// README tells operators to, and returns its directory.
func withComponent(t *testing.T, mem filesys.FileSystem, overlay, component string) string {
	t.Helper()
	dir := path.Join(root, "test", path.Base(overlay)+"-with-"+path.Base(component))
	k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../%s]\ncomponents: [../../%s]\n", overlay, component)
	if err := mem.WriteFile(path.Join(dir, "kustomization.yaml"), []byte(k)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rendered is one kustomization's output, decoded.
type rendered struct {
	deployment      *appsv1.Deployment
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	pdb             *policyv1.PodDisruptionBudget
	hpa             *autoscalingv2.HorizontalPodAutoscaler
	networkPolicy   *networkingv1.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	labels          map[string]map[string]string // kind/name: labels
}

// decodeStrict decodes one object's JSON as the API server does: keys match
// field names case-sensitively, and unknown or duplicate fields are errors.
func decodeStrict(data []byte, v any) error {
	strictErrs, err := json.UnmarshalStrict(data, v)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("%v", strictErrs)
	}
	return nil
}

// render builds dir with the kustomize library and decodes every object
// strictly into its API type; an unknown kind is an error.
func render(mem filesys.FileSystem, dir string) (*rendered, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(mem, dir)
	if err != nil {
		return nil, err
	}
	out := &rendered{services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{}, labels: map[string]map[string]string{}}
	for _, r := range m.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, err
		}
		var v interface{ GetLabels() map[string]string }
		switch gvk := r.GetApiVersion() + " " + r.GetKind(); gvk {
		case "apps/v1 Deployment":
			if out.deployment != nil {
				return nil, fmt.Errorf("two Deployments")
			}
			out.deployment = &appsv1.Deployment{}
			v = out.deployment
		case "v1 Service":
			s := &corev1.Service{}
			out.services[r.GetName()], v = s, s
		case "v1 ConfigMap":
			c := &corev1.ConfigMap{}
			out.configMaps[r.GetName()], v = c, c
		case "policy/v1 PodDisruptionBudget":
			out.pdb = &policyv1.PodDisruptionBudget{}
			v = out.pdb
		case "autoscaling/v2 HorizontalPodAutoscaler":
			out.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			v = out.hpa
		case "networking.k8s.io/v1 NetworkPolicy":
			out.networkPolicy = &networkingv1.NetworkPolicy{}
			v = out.networkPolicy
		case "monitoring.coreos.com/v1 ServiceMonitor":
			sm := &monitoringv1.ServiceMonitor{}
			out.serviceMonitors = append(out.serviceMonitors, sm)
			v = sm
		default:
			return nil, fmt.Errorf("%s %s: a kind this test does not know", gvk, r.GetName())
		}
		if err := decodeStrict(data, v); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		out.labels[r.GetKind()+"/"+r.GetName()] = v.GetLabels()
	}
	if out.deployment == nil {
		return nil, fmt.Errorf("no Deployment")
	}
	return out, nil
}

// TestEveryKustomization renders every kustomization of the package, and
// every overlay with every component, and checks what every variant needs.
func TestEveryKustomization(t *testing.T) {
	dirs, components := kustomizations(t)
	for _, want := range append([]string{"base"}, overlays...) {
		if !slices.Contains(dirs, want) {
			t.Errorf("no kustomization in %s (found %v)", want, dirs)
		}
	}
	if !slices.Contains(components, "components/servicemonitor") {
		t.Errorf("no servicemonitor component (found %v)", components)
	}
	mem := newFS(t, nil)
	builds := map[string]string{}
	for _, d := range dirs {
		builds[d] = path.Join(root, d)
	}
	for _, c := range components {
		for _, o := range overlays {
			builds[o+"+"+c] = withComponent(t, mem, o, c)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(builds)) {
		t.Run(name, func(t *testing.T) {
			r, err := render(mem, builds[name])
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, r)
			overlay, component, _ := strings.Cut(name, "+")
			switch overlay {
			case "overlays/hs256":
				checkHS256(t, r)
			case "overlays/xdr":
				checkXDR(t, r)
			}
			if component == "components/servicemonitor" {
				checkServiceMonitor(t, r)
			} else if len(r.serviceMonitors) > 0 {
				t.Error("a ServiceMonitor without the component")
			}
		})
	}
}

// TestDocumentedPaths renders every `kubectl apply -k deploy/kubernetes/…`
// the READMEs show.
func TestDocumentedPaths(t *testing.T) {
	re := regexp.MustCompile(`(?:apply|kustomize|build) -k (deploy/kubernetes[^\s` + "`" + `]*)`)
	mem := newFS(t, nil)
	seen := 0
	for _, doc := range []string{"README.md", "../../README.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			seen++
			dir := path.Join(root, strings.TrimPrefix(strings.TrimSuffix(m[1], "/"), "deploy/kubernetes"))
			if _, err := render(mem, dir); err != nil {
				t.Errorf("%s shows %q: %v", doc, m[0], err)
			}
		}
	}
	if seen < 2 {
		t.Errorf("%d kubectl apply -k commands in the READMEs, want one per overlay at least", seen)
	}
}

// TestStrictDecoding proves that a field the API server would reject fails
// the render: a wrong case, an unknown field, a wrong type.
func TestStrictDecoding(t *testing.T) {
	for _, c := range []struct{ name, file, from, to, want string }{
		{"as it is", "base/deployment.yaml", "", "", ""},
		{"wrong case in the pod", "base/deployment.yaml", "runAsNonRoot:", "runAsNonroot:", "runAsNonroot"},
		{"wrong case in the spec", "base/deployment.yaml", "minReadySeconds:", "minreadyseconds:", "minreadyseconds"},
		{"unknown field", "base/deployment.yaml", "revisionHistoryLimit:", "revisionHistory:", "revisionHistory"},
		{"wrong case in the HPA", "base/hpa.yaml", "averageUtilization:", "averageutilization:", "averageutilization"},
		{"wrong case in the NetworkPolicy", "base/networkpolicy.yaml", "policyTypes:", "policytypes:", "policytypes"},
		{"wrong case in the ServiceMonitor", "components/servicemonitor/servicemonitor.yaml", "scrapeTimeout:", "scrapetimeout:", "scrapetimeout"},
		{"wrong type", "base/pdb.yaml", "maxUnavailable: 1", "maxUnavailable: [1]", "maxUnavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			edited := false
			mem := newFS(t, func(name string, data []byte) []byte {
				if name != c.file || c.from == "" {
					return data
				}
				if !strings.Contains(string(data), c.from) {
					t.Fatalf("%s has no %q", name, c.from)
				}
				edited = true
				return []byte(strings.Replace(string(data), c.from, c.to, 1))
			})
			if c.from != "" && !edited {
				t.Fatalf("%s not found", c.file)
			}
			_, err := render(mem, withComponent(t, mem, "overlays/hs256", "components/servicemonitor"))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("render: %v, want an error naming %q", err, c.want)
			}
		})
	}
}

// podLabels are the labels of the Deployment's pods.
func (r *rendered) podLabels() map[string]string { return r.deployment.Spec.Template.Labels }

// selects reports whether every pair of sel is among labels (and sel is
// not empty).
func selects(sel, labels map[string]string) bool {
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

func relay(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "relay" {
		t.Fatalf("containers %+v, want one named relay", cs)
	}
	return cs[0]
}

func env(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

// shutdownMargin reads the relay's shutdown margin from serve.go, where
// serve gives requests in flight REQUEST_TIMEOUT plus it to finish.
func shutdownMargin(t *testing.T) time.Duration {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../cmd/signals-relay/serve.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var margin time.Duration
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "shutdownMargin" || len(vs.Values) != 1 {
			return true
		}
		// The form "N * time.Unit".
		if b, ok := vs.Values[0].(*ast.BinaryExpr); ok && b.Op == token.MUL {
			lit, lok := b.X.(*ast.BasicLit)
			sel, sok := b.Y.(*ast.SelectorExpr)
			if lok && sok && lit.Kind == token.INT {
				units := map[string]string{"Second": "s", "Millisecond": "ms", "Minute": "m"}
				if u, ok := units[sel.Sel.Name]; ok {
					margin, _ = time.ParseDuration(lit.Value + u)
				}
			}
		}
		return false
	})
	if margin <= 0 {
		t.Fatal("serve.go: no shutdownMargin of the form N * time.Second")
	}
	return margin
}

var digestRef = regexp.MustCompile(`^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9._-]+(/[a-z0-9._-]+)*@sha256:[0-9a-f]{64}$`)

func checkCommon(t *testing.T, r *rendered) {
	t.Helper()
	for obj, labels := range r.labels {
		for k, v := range recommendedLabels {
			if labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q", obj, k, labels[k], v)
			}
		}
		if labels["app.kubernetes.io/component"] == "" {
			t.Errorf("%s: no app.kubernetes.io/component label", obj)
		}
	}
	d := r.deployment
	if d.Spec.Replicas != nil {
		t.Errorf("replicas %d: leave the count to the HorizontalPodAutoscaler", *d.Spec.Replicas)
	}
	if !selects(d.Spec.Selector.MatchLabels, r.podLabels()) {
		t.Errorf("the selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, r.podLabels())
	}
	for k, v := range recommendedLabels {
		if r.podLabels()[k] != v {
			t.Errorf("pod label %s=%q, want %q", k, r.podLabels()[k], v)
		}
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v: want maxUnavailable 0", ru)
	}
	pod := d.Spec.Template.Spec
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v: want runAsNonRoot as 65532, the image's user, and the default seccomp profile", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted; the relay does not call the Kubernetes API")
	}

	c := relay(t, d)
	if !digestRef.MatchString(c.Image) {
		t.Errorf("image %q: want a reference pinned by digest (set by the kustomization's images:)", c.Image)
	}
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
	if ports["http"] != 9090 || ports["admin"] == 0 || ports["admin"] == 9090 {
		t.Errorf("ports %v: want http 9090 and an admin port of its own", ports)
	}
	e := env(c)
	if got, want := e["METRICS_ADDR"].Value, ":"+strconv.Itoa(int(ports["admin"])); got != want {
		t.Errorf("METRICS_ADDR %q, want %q (the admin port)", got, want)
	}
	if p, ok := d.Spec.Template.Annotations["prometheus.io/port"]; ok && p != strconv.Itoa(int(ports["admin"])) {
		t.Errorf("scrape annotations %v", d.Spec.Template.Annotations)
	}
	// The probes go to the admin listener, which public traffic never
	// reaches; GET /watchdog needs no token and echoes Health-Check.
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/watchdog" || p.HTTPGet.Port.String() != "admin" {
			t.Errorf("%s probe %+v: want GET /watchdog on the admin port", name, p)
			continue
		}
		if len(p.HTTPGet.HTTPHeaders) != 1 || p.HTTPGet.HTTPHeaders[0].Name != "Health-Check" {
			t.Errorf("%s probe headers %v: want Health-Check", name, p.HTTPGet.HTTPHeaders)
		}
	}

	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Memory().IsZero() || lim.Memory().IsZero() || req.Memory().Cmp(*lim.Memory()) > 0 || req.Cpu().IsZero() {
		t.Errorf("resources %+v: want memory requests and limits, requests below limits, and a CPU request", c.Resources)
	}
	if gml, err := resource.ParseQuantity(strings.TrimSuffix(e["GOMEMLIMIT"].Value, "iB") + "i"); err != nil || gml.Cmp(*lim.Memory()) >= 0 {
		t.Errorf("GOMEMLIMIT %q (%v) must be below the memory limit %v", e["GOMEMLIMIT"].Value, err, lim.Memory())
	}

	// The grace period covers the preStop pause, then REQUEST_TIMEOUT plus
	// the relay's shutdown margin after SIGTERM, with little to spare.
	requestTimeout, err := time.ParseDuration(e["REQUEST_TIMEOUT"].Value)
	if err != nil {
		t.Errorf("REQUEST_TIMEOUT %q: %v (set it: the grace period is computed from it)", e["REQUEST_TIMEOUT"].Value, err)
	}
	var pause time.Duration
	if l := c.Lifecycle; l == nil || l.PreStop == nil || l.PreStop.Sleep == nil || l.PreStop.Sleep.Seconds <= 0 {
		t.Errorf("lifecycle %+v: want a preStop sleep while the endpoint leaves the load balancers", l)
	} else {
		pause = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
	}
	margin := shutdownMargin(t)
	need := pause + requestTimeout + margin
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < need || time.Duration(*g)*time.Second > need+10*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v: want preStop %s + REQUEST_TIMEOUT %s + shutdown margin %s = %s, plus at most 10 s",
			g, pause, requestTimeout, margin, need)
	}

	keys := map[string]bool{}
	for _, tsc := range pod.TopologySpreadConstraints {
		if tsc.LabelSelector == nil || !selects(tsc.LabelSelector.MatchLabels, r.podLabels()) || tsc.MaxSkew != 1 {
			t.Errorf("topology spread %+v: want maxSkew 1 over the relay's pods", tsc)
		}
		keys[tsc.TopologyKey] = true
	}
	if !keys["topology.kubernetes.io/zone"] || !keys["kubernetes.io/hostname"] {
		t.Errorf("spread over %v: want zones and hosts", keys)
	}

	s := r.services["signals-relay"]
	if s == nil {
		t.Fatal("no Service signals-relay")
	}
	for name, svc := range r.services {
		if !selects(svc.Spec.Selector, r.podLabels()) {
			t.Errorf("the Service %s selects %v, the pods are labelled %v", name, svc.Spec.Selector, r.podLabels())
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("the Service %s targets port %q, the container has %v", name, p.TargetPort.String(), ports)
			}
		}
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("ports %+v: want the relay's http port only (not admin)", s.Spec.Ports)
	}

	hpa := r.hpa
	if hpa == nil || hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Name ||
		hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		t.Fatalf("HorizontalPodAutoscaler %+v: want the Deployment, at least two replicas", hpa)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Resource == nil || hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
		hpa.Spec.Metrics[0].Resource.Target.AverageUtilization == nil {
		t.Errorf("autoscaler metrics %+v: want CPU utilization", hpa.Spec.Metrics)
	}

	// With the fewest replicas, a voluntary disruption leaves one serving.
	pdb := r.pdb
	if pdb == nil || pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, r.podLabels()) {
		t.Fatalf("PodDisruptionBudget %+v: want one over the relay's pods", pdb)
	}
	if mu := pdb.Spec.MaxUnavailable; mu == nil || mu.Type != intstr.Int || mu.IntValue() < 1 || int32(mu.IntValue()) >= *hpa.Spec.MinReplicas {
		t.Errorf("maxUnavailable %v: want 1 to minReplicas-1", mu)
	}

	checkNetworkPolicy(t, r, ports)
}

func checkNetworkPolicy(t *testing.T, r *rendered, ports map[string]int32) {
	t.Helper()
	np := r.networkPolicy
	if np == nil || !selects(np.Spec.PodSelector.MatchLabels, r.podLabels()) {
		t.Fatalf("NetworkPolicy %+v: want one over the relay's pods", np)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policy types %v: want ingress and egress", np.Spec.PolicyTypes)
	}
	// Each port in from one namespace: http from the ingress controller's,
	// admin from the monitoring one.
	from := map[string]string{}
	for _, in := range np.Spec.Ingress {
		if len(in.From) != 1 || in.From[0].NamespaceSelector == nil || in.From[0].PodSelector != nil || in.From[0].IPBlock != nil {
			t.Errorf("ingress rule %+v: want one namespace", in)
			continue
		}
		ns := in.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
		for _, p := range in.Ports {
			if _, ok := ports[p.Port.String()]; !ok || p.Protocol == nil || *p.Protocol != corev1.ProtocolTCP {
				t.Errorf("ingress port %+v is not a TCP port of the container %v", p, ports)
			}
			from[p.Port.String()] = ns
		}
	}
	if len(from) != 2 || from["http"] == "" || from["admin"] == "" || from["http"] == from["admin"] {
		t.Errorf("ingress %v: want http from one namespace, admin from another", from)
	}
	// Out: DNS and HTTPS only.
	out := map[string]bool{}
	for _, e := range np.Spec.Egress {
		for _, p := range e.Ports {
			if p.Protocol == nil || p.Port == nil {
				t.Errorf("egress port %+v: want a protocol and a port", p)
				continue
			}
			out[string(*p.Protocol)+"/"+p.Port.String()] = true
		}
		if len(e.Ports) == 0 {
			t.Errorf("egress rule %+v allows every port", e)
		}
	}
	if want := map[string]bool{"UDP/53": true, "TCP/53": true, "TCP/443": true}; !maps.Equal(out, want) {
		t.Errorf("egress %v, want %v", out, want)
	}
}

func checkHS256(t *testing.T, r *rendered) {
	t.Helper()
	c := relay(t, r.deployment)
	if ref := env(c)["SECRET_KEY"].ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Key != "SECRET_KEY" {
		t.Errorf("SECRET_KEY %+v: want it from a Secret", env(c)["SECRET_KEY"])
	}
	if len(c.EnvFrom) > 0 || len(r.configMaps) > 0 {
		t.Errorf("envFrom %+v, ConfigMaps %v: want none", c.EnvFrom, slices.Collect(maps.Keys(r.configMaps)))
	}
}

func checkXDR(t *testing.T, r *rendered) {
	t.Helper()
	c := relay(t, r.deployment)
	if _, ok := env(c)["SECRET_KEY"]; ok {
		t.Error("SECRET_KEY is set")
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil {
		t.Fatalf("envFrom %+v: want the XDR ConfigMap", c.EnvFrom)
	}
	cm := r.configMaps[c.EnvFrom[0].ConfigMapRef.Name]
	if cm == nil {
		t.Fatalf("envFrom names %q, the ConfigMaps are %v", c.EnvFrom[0].ConfigMapRef.Name, slices.Collect(maps.Keys(r.configMaps)))
	}
	if cm.Data["AUTH_MODE"] != "xdr" || !strings.HasPrefix(cm.Data["RELAY_URL"], "https://") {
		t.Errorf("XDR settings %v: want AUTH_MODE=xdr and an https RELAY_URL", cm.Data)
	}
}

func checkServiceMonitor(t *testing.T, r *rendered) {
	t.Helper()
	if len(r.serviceMonitors) != 1 {
		t.Fatalf("%d ServiceMonitors, want 1", len(r.serviceMonitors))
	}
	sm := r.serviceMonitors[0]
	var target *corev1.Service
	for _, s := range r.services {
		if selects(sm.Spec.Selector.MatchLabels, s.Labels) {
			if target != nil {
				t.Errorf("the ServiceMonitor selects the Services %s and %s", target.Name, s.Name)
			}
			target = s
		}
	}
	if target == nil {
		t.Fatalf("the ServiceMonitor selects %v: no Service has these labels", sm.Spec.Selector.MatchLabels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Path != "/metrics" ||
		len(target.Spec.Ports) != 1 || sm.Spec.Endpoints[0].Port != target.Spec.Ports[0].Name ||
		target.Spec.Ports[0].TargetPort != intstr.FromString("admin") {
		t.Errorf("ServiceMonitor endpoints %+v over the Service ports %+v: want /metrics on the admin port", sm.Spec.Endpoints, target.Spec.Ports)
	}
	for k := range r.deployment.Spec.Template.Annotations {
		if strings.HasPrefix(k, "prometheus.io/") {
			t.Errorf("the pods keep the annotation %s: they would be scraped twice", k)
		}
	}
}

// TestOperatorOverlay renders the overlay the README shows operators, as
// written (its paths pointed at this package), and checks that what it
// sets reaches the pods: its image by digest and its RELAY_URL.
func TestOperatorOverlay(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# kustomization.yaml of your overlay\n.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md shows no overlay (a ```yaml block starting with # kustomization.yaml of your overlay)")
	}
	const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	overlay := strings.NewReplacer("../signals-relay/deploy/kubernetes/", "../", "sha256:…", digest).Replace(string(m[1]))
	mem := newFS(t, nil)
	dir := path.Join(root, "operator")
	if err := mem.WriteFile(path.Join(dir, "kustomization.yaml"), []byte(overlay)); err != nil {
		t.Fatal(err)
	}
	r, err := render(mem, dir)
	if err != nil {
		t.Fatalf("the README's overlay does not render: %v\n%s", err, overlay)
	}
	c := r.deployment.Spec.Template.Spec.Containers[0]
	if want := "registry.example.com/signals-relay@" + digest; c.Image != want {
		t.Errorf("image %q, want the overlay's %q", c.Image, want)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil {
		t.Fatalf("envFrom %+v: want the XDR ConfigMap", c.EnvFrom)
	}
	if cm := r.configMaps[c.EnvFrom[0].ConfigMapRef.Name]; cm == nil || cm.Data["RELAY_URL"] != "https://relay.example.com" {
		t.Errorf("ConfigMap %+v: want the overlay's RELAY_URL", cm)
	}
}
