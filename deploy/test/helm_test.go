package deploytest

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../helm/esign"

// processes are esign's long-running commands, one Deployment each.
var processes = []string{"oss", "css", "pdfservice", "cron", "tsa"}

// manifests is one rendering of the chart, decoded.
type manifests struct {
	deployments map[string]appsv1.Deployment // by the container's process
	services    map[string]corev1.Service
	hpas        map[string]autoscalingv2.HorizontalPodAutoscaler
	pdbs        map[string]policyv1.PodDisruptionBudget
	policies    map[string]networkingv1.NetworkPolicy // by component
	jobs        []batchv1.Job
	pvcs        []corev1.PersistentVolumeClaim
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// renderFiles renders the chart as `helm template` would with the values
// file (empty: the defaults): its templates' output by file name.
func renderFiles(t *testing.T, valuesFile string) map[string]string {
	t.Helper()
	vals := map[string]any{}
	if valuesFile != "" {
		v, err := common.ReadValuesFile(valuesFile)
		if err != nil {
			t.Fatal(err)
		}
		vals = v
	}
	return renderValues(t, vals)
}

// renderValues renders the chart with values given as a map.
func renderValues(t *testing.T, vals map[string]any) map[string]string {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	top, err := util.ToRenderValues(chrt, vals, common.ReleaseOptions{Name: "esign", Namespace: "esign", IsInstall: true, Revision: 1}, nil)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return files
}

// render renders the chart as `helm template` would with the values file
// (empty: the defaults) and decodes every object strictly into its API
// type: an unknown or misspelt field fails like a schema check.
func render(t *testing.T, valuesFile string) manifests {
	t.Helper()
	files := renderFiles(t, valuesFile)
	m := manifests{
		deployments: map[string]appsv1.Deployment{},
		services:    map[string]corev1.Service{},
		hpas:        map[string]autoscalingv2.HorizontalPodAutoscaler{},
		pdbs:        map[string]policyv1.PodDisruptionBudget{},
		policies:    map[string]networkingv1.NetworkPolicy{},
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(strings.ReplaceAll(doc, "---", "")) == "" {
				continue
			}
			where := fmt.Sprintf("%s #%d", name, i)
			var head struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v\n%s", where, err, doc)
			}
			strict := func(v any) {
				t.Helper()
				if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
					t.Fatalf("%s (%s): %v\n%s", where, head.Kind, err, doc)
				}
			}
			switch head.Kind {
			case "Deployment":
				var d appsv1.Deployment
				strict(&d)
				m.deployments[d.Labels["app.kubernetes.io/component"]] = d
			case "Service":
				var s corev1.Service
				strict(&s)
				m.services[s.Name] = s
			case "HorizontalPodAutoscaler":
				var h autoscalingv2.HorizontalPodAutoscaler
				strict(&h)
				m.hpas[h.Spec.ScaleTargetRef.Name] = h
			case "PodDisruptionBudget":
				var p policyv1.PodDisruptionBudget
				strict(&p)
				m.pdbs[p.Labels["app.kubernetes.io/component"]] = p
			case "NetworkPolicy":
				var p networkingv1.NetworkPolicy
				strict(&p)
				m.policies[p.Labels["app.kubernetes.io/component"]] = p
			case "Job":
				var j batchv1.Job
				strict(&j)
				m.jobs = append(m.jobs, j)
			case "PersistentVolumeClaim":
				var p corev1.PersistentVolumeClaim
				strict(&p)
				m.pvcs = append(m.pvcs, p)
			default:
				t.Fatalf("%s: unexpected kind %q", where, head.Kind)
			}
		}
	}
	return m
}

var valuesFiles = []struct{ name, file string }{
	{"defaults", ""},
	{"production", "testdata/values-production.yaml"},
}

// TestChartGolden keeps the rendered manifests under testdata, so that a
// change of the chart shows in review as the change of what it deploys.
func TestChartGolden(t *testing.T) {
	for _, vf := range valuesFiles {
		t.Run(vf.name, func(t *testing.T) {
			files := renderFiles(t, vf.file)
			var b strings.Builder
			for _, name := range slices.Sorted(maps.Keys(files)) {
				if body := strings.TrimSpace(files[name]); body != "" {
					fmt.Fprintf(&b, "# Source: %s\n%s\n", name, body)
				}
			}
			golden := filepath.Join("testdata", "chart-"+vf.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, golden); b.String() != want {
				t.Errorf("the rendered chart differs from %s (go test -run TestChartGolden -update, then review the diff)", golden)
			}
		})
	}
}

func TestChartLint(t *testing.T) {
	for _, vf := range valuesFiles {
		t.Run(vf.name, func(t *testing.T) {
			vals := map[string]any{}
			if vf.file != "" {
				v, err := common.ReadValuesFile(vf.file)
				if err != nil {
					t.Fatal(err)
				}
				vals = v
			}
			res := lint.RunAll(chartDir, vals, "esign")
			for _, msg := range res.Messages {
				if msg.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", msg)
				}
			}
		})
	}
}

func TestChartDeployments(t *testing.T) {
	for _, vf := range valuesFiles {
		t.Run(vf.name, func(t *testing.T) {
			m := render(t, vf.file)
			want := processes
			if vf.name == "production" {
				want = []string{"oss", "css", "pdfservice", "cron"} // a qualified TSA instead
			}
			if got := slices.Sorted(maps.Keys(m.deployments)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Fatalf("deployments %v, want %v", got, want)
			}
			for process, d := range m.deployments {
				checkPod(t, "deployment "+d.Name, d.Spec.Template.Spec, true)
				c := d.Spec.Template.Spec.Containers[0]
				if !slices.Equal(c.Args, []string{process}) {
					t.Errorf("%s: args %v, want [%s]", d.Name, c.Args, process)
				}
				if d.Spec.Selector == nil || d.Spec.Selector.MatchLabels["app.kubernetes.io/component"] != process {
					t.Errorf("%s: selector %v does not select the component", d.Name, d.Spec.Selector)
				}
				env := envOf(c)
				if env["ESIGN_LISTEN_OPS"] != "0.0.0.0:10189" {
					t.Errorf("%s: ESIGN_LISTEN_OPS %q", d.Name, env["ESIGN_LISTEN_OPS"])
				}
				for k, v := range env {
					if strings.HasSuffix(k, "_FILE") && !strings.HasPrefix(v, "/run/secrets/esign/") {
						t.Errorf("%s: %s=%s is not a mounted secret", d.Name, k, v)
					}
					if strings.Contains(strings.ToLower(k), "password") && !strings.HasSuffix(k, "_FILE") {
						t.Errorf("%s: %s as a plain variable: secrets go in files", d.Name, k)
					}
				}
			}
			// oss and cron share the documents (data_dir) on one volume;
			// pdfservice, which holds the bank's key, does not see them.
			for process, wantData := range map[string]bool{"oss": true, "cron": true, "pdfservice": false, "css": false} {
				has := slices.ContainsFunc(m.deployments[process].Spec.Template.Spec.Containers[0].VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == "/var/lib/esign" })
				if has != wantData {
					t.Errorf("%s mounts data_dir: %v, want %v", process, has, wantData)
				}
			}
		})
	}
}

// checkPod asserts the settings every esign pod has: probes on the
// operations listener, requests and limits, non-root, a read-only root
// filesystem, no privilege escalation, no capabilities, secrets as files.
func checkPod(t *testing.T, what string, pod corev1.PodSpec, probes bool) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers", what, len(pod.Containers))
	}
	c := pod.Containers[0]
	if probes {
		for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: no HTTP %s probe", what, name)
				continue
			}
			want := "/healthz"
			if name == "readiness" {
				want = "/readyz"
			}
			if p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "ops" {
				t.Errorf("%s: %s probe %s on port %s, want %s on ops", what, name, p.HTTPGet.Path, p.HTTPGet.Port.String(), want)
			}
		}
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "ops" && p.ContainerPort == 10189 }) {
			t.Errorf("%s: no ops port 10189", what)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim || req.IsZero() || lim.IsZero() {
			t.Errorf("%s: %s request %v / limit %v missing", what, r, c.Resources.Requests, c.Resources.Limits)
		} else if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s above its limit %s", what, r, req.String(), lim.String())
		}
	}
	sc, psc := c.SecurityContext, pod.SecurityContext
	switch {
	case sc == nil || psc == nil:
		t.Errorf("%s: no security context", what)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Errorf("%s: not runAsNonRoot", what)
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Errorf("%s: no numeric non-root user", what)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: root filesystem not read-only", what)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: privilege escalation allowed", what)
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: privileged", what)
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities %+v, want all dropped", what, sc.Capabilities)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token", what)
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("%s: shares a host namespace", what)
	}
	mounts := map[string]bool{}
	for _, v := range c.VolumeMounts {
		mounts[v.MountPath] = true
		if v.MountPath == "/run/secrets/esign" && !v.ReadOnly {
			t.Errorf("%s: secrets mounted writable", what)
		}
	}
	if !mounts["/tmp"] || !mounts["/run/secrets/esign"] {
		t.Errorf("%s: mounts %v, want /tmp and /run/secrets/esign", what, mounts)
	}
	// Every secret file mounted is read by an ESIGN_*_FILE, and every
	// ESIGN_*_FILE names a mounted file.
	files := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.Name != "secrets" || v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				for _, it := range src.Secret.Items {
					files["/run/secrets/esign/"+it.Path] = false
				}
			}
		}
	}
	for _, e := range c.Env {
		if strings.HasSuffix(e.Name, "_FILE") {
			if _, ok := files[e.Value]; !ok {
				t.Errorf("%s: %s=%s is not a mounted secret", what, e.Name, e.Value)
			}
			files[e.Value] = true
		}
	}
	for f, read := range files {
		if !read {
			t.Errorf("%s: %s is mounted but no ESIGN_*_FILE reads it", what, f)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			t.Errorf("%s: %s from a Secret in the environment: secrets go in files", what, e.Name)
		}
	}
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func TestChartScaling(t *testing.T) {
	m := render(t, "")
	for _, process := range []string{"oss", "css"} {
		name := "esign-" + process
		h, ok := m.hpas[name]
		if !ok {
			t.Errorf("no HorizontalPodAutoscaler for %s", name)
			continue
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas <= *h.Spec.MinReplicas {
			t.Errorf("%s: replicas %v..%d", name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
		if m.deployments[process].Spec.Replicas != nil {
			t.Errorf("%s: the Deployment sets replicas beside its autoscaler", name)
		}
	}
	if len(m.hpas) != 2 {
		t.Errorf("%d autoscalers, want oss and css only", len(m.hpas))
	}
	for _, process := range processes {
		p, ok := m.pdbs[process]
		if !ok {
			t.Errorf("no PodDisruptionBudget for %s", process)
			continue
		}
		if p.Spec.Selector.MatchLabels["app.kubernetes.io/component"] != process {
			t.Errorf("PodDisruptionBudget of %s selects %v", process, p.Spec.Selector.MatchLabels)
		}
		if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
			t.Errorf("PodDisruptionBudget of %s allows nothing and forbids nothing", process)
		}
		if p.Spec.UnhealthyPodEvictionPolicy == nil || *p.Spec.UnhealthyPodEvictionPolicy != policyv1.AlwaysAllow {
			t.Errorf("PodDisruptionBudget of %s: unready pods (a database outage) would block node drains", process)
		}
	}
	for _, process := range []string{"pdfservice", "cron"} {
		if r := m.deployments[process].Spec.Replicas; r == nil || *r < 2 {
			t.Errorf("%s: %v replicas, want at least 2", process, r)
		}
	}
}

func TestChartMigrationJob(t *testing.T) {
	m := render(t, "")
	if len(m.jobs) != 1 {
		t.Fatalf("%d jobs, want the migration", len(m.jobs))
	}
	j := m.jobs[0]
	hooks := strings.Split(j.Annotations["helm.sh/hook"], ",")
	slices.Sort(hooks)
	if !slices.Equal(hooks, []string{"pre-install", "pre-upgrade"}) {
		t.Errorf("job hooks %v, want pre-install and pre-upgrade", hooks)
	}
	if j.Annotations["helm.sh/hook-delete-policy"] == "" {
		t.Error("the job is never deleted: the next upgrade's hook would fail")
	}
	pod := j.Spec.Template.Spec
	checkPod(t, "job "+j.Name, pod, false)
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restart policy %q", pod.RestartPolicy)
	}
	if c := pod.Containers[0]; !slices.Equal(c.Args, []string{"migrate", "up"}) {
		t.Errorf("job args %v, want [migrate up]", c.Args)
	}
	if pod.ServiceAccountName != "" {
		t.Errorf("the hook uses service account %q, which a pre-install hook runs before", pod.ServiceAccountName)
	}
}

func TestChartNetworkPolicies(t *testing.T) {
	for _, vf := range valuesFiles {
		t.Run(vf.name, func(t *testing.T) {
			m := render(t, vf.file)
			for process := range m.deployments {
				p, ok := m.policies[process]
				if !ok {
					t.Errorf("no NetworkPolicy for %s", process)
					continue
				}
				if p.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] != process {
					t.Errorf("policy of %s selects %v", process, p.Spec.PodSelector.MatchLabels)
				}
				if !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
					t.Errorf("policy of %s does not restrict ingress", process)
				}
				open := map[string][]networkingv1.NetworkPolicyPeer{} // port → who; nil: anyone
				for _, rule := range p.Spec.Ingress {
					if len(rule.Ports) == 0 {
						t.Errorf("policy of %s admits every port", process)
					}
					for _, port := range rule.Ports {
						open[port.Port.String()] = rule.From
					}
				}
				var wantPorts []string
				switch process {
				case "oss":
					wantPorts = []string{"mobile", "ops", "realtime", "webhook"}
					if vf.name == "production" {
						wantPorts = append(wantPorts, "admin")
					}
				case "css":
					wantPorts = []string{"customer", "customer-rt", "ops"}
				case "pdfservice", "cron":
					wantPorts = []string{"ops"} // reached over the bus only
				case "tsa":
					wantPorts = []string{"ops", "tsa"}
				}
				slices.Sort(wantPorts)
				if got := slices.Sorted(maps.Keys(open)); !slices.Equal(got, wantPorts) {
					t.Errorf("%s admits ports %v, want %v", process, got, wantPorts)
				}
				if from, ok := open["ops"]; ok && len(from) == 0 {
					t.Errorf("%s: the operations listener is open to anyone", process)
				}
				if from, ok := open["admin"]; ok && len(from) == 0 {
					t.Errorf("%s: the admin UI is open to anyone", process)
				}
				if from, ok := open["tsa"]; ok && (len(from) == 0 || from[0].PodSelector == nil) {
					t.Errorf("the TSA is open beyond the release's pods: %v", from)
				}
			}
			if _, ok := m.services["esign-pdfservice"]; ok {
				t.Error("pdfservice has a Service: it is reached over the bus only")
			}
			for name, s := range m.services {
				for _, port := range s.Spec.Ports {
					if port.Port == 10189 {
						t.Errorf("service %s exposes the operations listener", name)
					}
					if port.Port == 10181 && (name != "esign-oss-admin" || s.Spec.Type != corev1.ServiceTypeClusterIP) {
						t.Errorf("service %s (%s) exposes the admin UI", name, s.Spec.Type)
					}
				}
			}
		})
	}
}

func TestChartValuesDocumented(t *testing.T) {
	readme := readFile(t, filepath.Join(chartDir, "README.md"))
	vals, err := common.ReadValuesFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range leafKeys("", vals) {
		if !strings.Contains(readme, "`"+key+"`") {
			t.Errorf("values key %s is not in the chart's README.md table", key)
		}
	}
}

// leafKeys lists the dotted keys of values down to the documented depth:
// maps of settings (config, secrets.files, resources, …) count as one key.
func leafKeys(prefix string, v map[string]any) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		sub, isMap := v[k].(map[string]any)
		switch {
		case !isMap, len(sub) == 0, opaque[key] || opaque[lastPart(key)]:
			out = append(out, key)
		default:
			out = append(out, leafKeys(key, sub)...)
		}
	}
	return out
}

var opaque = map[string]bool{"config": true, "secrets.files": true, "resources": true, "pdb": true, "podSecurityContext": true, "securityContext": true}

func lastPart(key string) string { return key[strings.LastIndex(key, ".")+1:] }

// TestChartSwitches renders the chart with each optional part off: what
// is switched off is gone and the rest still renders.
func TestChartSwitches(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, files map[string]string)
	}{
		{"no_autoscaling", "oss: {autoscaling: {enabled: false}, replicas: 3}\ncss: {autoscaling: {enabled: false}}", func(t *testing.T, files map[string]string) {
			if strings.Contains(files["esign/templates/hpa.yaml"], "HorizontalPodAutoscaler") {
				t.Error("autoscalers rendered")
			}
			if !strings.Contains(files["esign/templates/deployments.yaml"], "replicas: 3") {
				t.Error("oss.replicas not used without its autoscaler")
			}
		}},
		{"no_network_policies", "networkPolicy: {enabled: false}", func(t *testing.T, files map[string]string) {
			if strings.Contains(files["esign/templates/networkpolicy.yaml"], "NetworkPolicy") {
				t.Error("network policies rendered")
			}
		}},
		{"no_migration", "migrate: {enabled: false}", func(t *testing.T, files map[string]string) {
			if strings.Contains(files["esign/templates/migrate-job.yaml"], "kind: Job") {
				t.Error("migration job rendered")
			}
		}},
		{"existing_claim", "persistence: {existingClaim: docs}", func(t *testing.T, files map[string]string) {
			if strings.Contains(files["esign/templates/pvc.yaml"], "PersistentVolumeClaim") {
				t.Error("a claim created beside the existing one")
			}
			if !strings.Contains(files["esign/templates/deployments.yaml"], "claimName: docs") {
				t.Error("the existing claim is not mounted")
			}
		}},
		{"no_pdb", "oss: {pdb: null}", func(t *testing.T, files map[string]string) {
			if strings.Contains(files["esign/templates/pdb.yaml"], "name: esign-oss\n") {
				t.Error("oss has a PodDisruptionBudget")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := common.ReadValues([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, renderValues(t, vals))
		})
	}
}
