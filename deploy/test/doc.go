// Package deploytest checks the deployment files of esign without a
// container runtime or a cluster: the Helm chart (deploy/helm/esign)
// rendered with Helm's own chart loader, engine and linter and decoded
// strictly into the Kubernetes API types; the Compose file
// (deploy/compose/compose.yaml) loaded with the Compose specification's
// reference loader; the Dockerfile against the rules of
// docs/operations.md ("Container image"); the Grafana dashboard and the
// Prometheus rules against the metric names esign serves
// (internal/metrics/testdata/names.golden).
//
// It is a module of its own (esign/deploy/test) so that Helm's, Compose's
// and Kubernetes' modules stay out of esign's go.mod. Run it with
//
//	cd deploy/test && go test ./...
//
// It imports esign's configuration package through a replace directive
// (config_test.go loads the chart's and Compose's settings as esign
// would); should a change of esign's go.mod leave this module's go.sum
// short, run go mod tidy here.
package deploytest
