package config

import "fmt"

// Tracing configures OpenTelemetry tracing (docs/operations.md, "Tracing").
type Tracing struct {
	Endpoint    string  `json:"endpoint" help:"OTLP/HTTP traces URL of an OpenTelemetry collector, e.g. http://otel-collector:4318/v1/traces (http only to a trusted network; https otherwise). The standard OTEL_EXPORTER_OTLP_* variables add headers or certificates. Empty: tracing is off (no spans are made, no trace context is sent)."`
	SampleRatio float64 `json:"sample_ratio" help:"Share of the traces started by this process (requests without a sampled parent) that are recorded, 0 to 1; a request or message whose caller sampled it is always recorded, so that a trace is whole across processes."`
	ServiceName string  `json:"service_name" help:"service.name of this process's spans. Empty: esign-<command> (esign-oss, esign-css, esign-pdfservice, esign-cron, esign-tsa, esign-all)."`
}

func (t Tracing) validate() error {
	if t.Endpoint != "" {
		if err := checkURL(t.Endpoint, "https", "http"); err != nil {
			return &FieldError{Key: "tracing.endpoint", Reason: err.Error()}
		}
	}
	if !(t.SampleRatio >= 0 && t.SampleRatio <= 1) {
		return &FieldError{Key: "tracing.sample_ratio", Reason: fmt.Sprintf("%v is not from 0 to 1", t.SampleRatio)}
	}
	return nil
}
