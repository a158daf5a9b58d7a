package main

import (
	"bytes"
	"strings"
	"testing"
)

// run is what go test -json printed for three packages: one skips its
// PostgreSQL suites in two tests, one skips for a missing tool, one fails.
const run = `go: downloading github.com/jackc/pgx/v5 v5.12.0
{"Action":"start","Package":"esign/internal/users"}
{"Action":"output","Package":"esign/internal/users","Test":"TestSetPassword/postgres","Output":"=== RUN   TestSetPassword/postgres\n"}
{"Action":"output","Package":"esign/internal/users","Test":"TestSetPassword/postgres","Output":"    customerstest.go:111: ESIGN_TEST_POSTGRES_URL is not set: skipping the test against the real server\n"}
{"Action":"output","Package":"esign/internal/users","Test":"TestSetPassword/postgres","Output":"--- SKIP: TestSetPassword/postgres (0.00s)\n"}
{"Action":"skip","Package":"esign/internal/users","Test":"TestSetPassword/postgres","Elapsed":0}
{"Action":"pass","Package":"esign/internal/users","Test":"TestSetPassword","Elapsed":0.5}
{"Action":"pass","Package":"esign/internal/users","Elapsed":0.6}
{"Action":"output","Package":"esign/internal/sqlstore","Test":"TestMigrationParity","Output":"    postgres.go:23: ESIGN_TEST_POSTGRES_URL is not set: skipping the test against the real server\n"}
{"Action":"skip","Package":"esign/internal/sqlstore","Test":"TestMigrationParity","Elapsed":0}
{"Action":"output","Package":"esign/internal/sqlstore","Test":"TestQuiet","Output":"--- SKIP: TestQuiet (0.00s)\n"}
{"Action":"skip","Package":"esign/internal/sqlstore","Test":"TestQuiet","Elapsed":0}
{"Action":"pass","Package":"esign/internal/sqlstore","Elapsed":1}
{"Action":"output","Package":"esign/internal/pdf","Test":"TestQPDF","Output":"        pdf_test.go:171: qpdf not found on PATH: skipping\n"}
{"Action":"skip","Package":"esign/internal/pdf","Test":"TestQPDF","Elapsed":0}
{"Action":"fail","Package":"esign/internal/pdf","Test":"TestBroken","Elapsed":0}
{"Action":"fail","Package":"esign/internal/pdf","Elapsed":1}
{"Action":"skip","Package":"esign/cmd/esign","Elapsed":0}
`

func TestReport(t *testing.T) {
	s, err := read(strings.NewReader(run))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.print(&out)
	want := `skipped 2 tests in 2 packages: ESIGN_TEST_POSTGRES_URL is not set: skipping the test against the real server
skipped 1 test in 1 package: (no reason given)
skipped 1 test in 1 package: qpdf not found on PATH: skipping
2 packages passed, 1 failed
FAIL esign/internal/pdf (go test esign/internal/pdf shows why)
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestReportNothingSkipped(t *testing.T) {
	s, err := read(strings.NewReader(`{"Action":"pass","Package":"esign/internal/term","Elapsed":0.1}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.print(&out)
	if out.String() != "no test was skipped\n1 package passed, 0 failed\n" {
		t.Errorf("got %q", out.String())
	}
}

func TestReportBadInput(t *testing.T) {
	for _, in := range []string{"", "ok  \tesign/internal/term\t0.1s\n", "{not json\n"} {
		if _, err := read(strings.NewReader(in)); err == nil {
			t.Errorf("read(%q): no error", in)
		}
	}
}
