module esign/deploy/test

go 1.26.0

require (
	github.com/compose-spec/compose-go/v2 v2.16.2 // indirect
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	helm.sh/helm/v4 v4.3.2 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)
