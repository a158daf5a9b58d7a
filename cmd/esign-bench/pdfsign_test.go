package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestRunPDFSign(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runPDFSignTo(context.Background(), []string{"--size", "100000", "--duration", "300ms", "--concurrency", "2"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var sum pdfSignSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	if sum.Signatures == 0 || sum.Errors != 0 || sum.SignaturesPerS <= 0 || sum.PeakRSSMB <= 0 {
		t.Fatalf("summary %+v", sum)
	}
}
