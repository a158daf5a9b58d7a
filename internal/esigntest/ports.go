package esigntest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a listener whose address must be known before the process
// starts (the built-in TSA's address goes into the development PKI). The
// port is chosen below the kernel's ephemeral range: a port from ":0" is
// an ephemeral one, which any outgoing connection on the machine may take
// between this call and the process's bind.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	lo, hi := 20000, ephemeralStart()
	if hi-lo < 1000 {
		lo = max(1024, hi-5000)
	}
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", lo+rand.IntN(hi-lo))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	tb.Fatalf("no free port in %d-%d", lo, hi)
	return ""
}

// ephemeralStart is the first port of the kernel's ephemeral range
// (Linux: /proc/sys/net/ipv4/ip_local_port_range; elsewhere 32768).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 1024 {
		return 32768
	}
	return n
}
