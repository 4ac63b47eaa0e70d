package agents_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
)

// Password hashing against its floor (BENCHMARKS.md, "Agents: password hashing"):
//
//	go test -run '^$' -bench 'Password|Floor|Reused' -benchmem -count 3 ./pkg/agents/
//	go test -run '^$' -bench 'Password|Floor' -benchmem -count 3 -tags purego ./pkg/agents/ # no assembly, as on arm64
//	go test -run '^$' -bench HashRatio -benchtime 40x ./pkg/agents/ # side by side, medians
//	go test -run '^$' -bench PeakMemory -benchtime 1x ./pkg/agents/
//
// The floor is a bare argon2.IDKey with the same parameters, password and salt length;
// HashPassword adds the salt, NFC and the encoding, VerifyPassword the strict parse and
// the constant-time comparison.

const benchPassword = "Tr0ub4dor&3x"

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := passwords.HashPassword(benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	h := mustHash(b, benchPassword)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := passwords.VerifyPassword(h, benchPassword); !ok || err != nil {
			b.Fatal("no match")
		}
	}
}

// BenchmarkFloor is argon2.IDKey alone under DefaultParams.
func BenchmarkFloor(b *testing.B) {
	p := passwords.DefaultParams
	salt := make([]byte, p.SaltLen)
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte(benchPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
}

// BenchmarkHashRatio runs the floor, HashPassword and VerifyPassword in turn, each
// iteration once each, and reports the median of each and their ratios to the floor's:
// the machine is shared and its speed drifts, so figures measured side by side are the
// ones to compare (go test -run '^$' -bench HashRatio -benchtime 40x ./pkg/agents/).
func BenchmarkHashRatio(b *testing.B) {
	p := passwords.DefaultParams
	salt := make([]byte, p.SaltLen)
	h := mustHash(b, benchPassword)
	runs := [3]func(){
		func() { argon2.IDKey([]byte(benchPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen) },
		func() {
			if _, err := passwords.HashPassword(benchPassword); err != nil {
				b.Fatal(err)
			}
		},
		func() {
			if ok, _, _ := passwords.VerifyPassword(h, benchPassword); !ok {
				b.Fatal("no match")
			}
		},
	}
	var took [3][]time.Duration
	i := 0
	for b.Loop() {
		for k := range 3 {
			j := (i + k) % 3 // each goes first in turn: no order effect (the collector)
			start := time.Now()
			runs[j]()
			took[j] = append(took[j], time.Since(start))
		}
		i++
	}
	f, hh, v := median(took[0]), median(took[1]), median(took[2])
	b.ReportMetric(float64(f.Microseconds())/1000, "floor-ms")
	b.ReportMetric(float64(hh.Microseconds())/1000, "hash-ms")
	b.ReportMetric(float64(v.Microseconds())/1000, "verify-ms")
	b.ReportMetric(float64(hh)/float64(f), "hash/floor")
	b.ReportMetric(float64(v)/float64(f), "verify/floor")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkFloorCandidates is the floor under the parameters weighed against
// DefaultParams (OWASP's equivalent configurations and heavier ones).
func BenchmarkFloorCandidates(b *testing.B) {
	salt := make([]byte, 16)
	for _, c := range []struct{ m, t uint32 }{{19 * 1024, 2}, {46 * 1024, 1}, {32 * 1024, 2}, {64 * 1024, 1}, {64 * 1024, 2}} {
		b.Run(fmt.Sprintf("m=%dMiB,t=%d", c.m/1024, c.t), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				argon2.IDKey([]byte(benchPassword), salt, c.t, c.m, 1, 32)
			}
		})
	}
}

// BenchmarkReusedWorstCase compares a new password with a full history and the current
// hash, none matching: HistorySize+1 argon2id runs, the reuse rule's worst case (the
// check route with agentId).
func BenchmarkReusedWorstCase(b *testing.B) {
	current := mustHash(b, "current")
	var h agents.History
	for i := range agents.HistorySize {
		h = h.Push(mustHash(b, fmt.Sprint("earlier", i)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if reused, err := passwords.Reused("brand new", current, h); reused || err != nil {
			b.Fatal("reused")
		}
	}
}

// BenchmarkPeakMemory runs TestPeakMemoryChild in a process of its own and reports its
// peak resident set (VmHWM) before and after five hashes and five verifications under
// DefaultParams with the default GOGC: what a function's memory size must hold.
func BenchmarkPeakMemory(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs Linux /proc")
	}
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakMemoryChild$", "-test.v")
		cmd.Env = append(os.Environ(), "AGENTS_PEAK_MEMORY_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		var before, after float64
		if _, err := fmt.Sscanf(string(out[strings.Index(string(out), "peak:"):]), "peak: %f %f", &before, &after); err != nil {
			b.Fatalf("child output %q: %v", out, err)
		}
		b.ReportMetric(before, "baseline-MiB")
		b.ReportMetric(after, "peak-MiB")
	}
}

// TestPeakMemoryChild is BenchmarkPeakMemory's child; it runs only when asked to.
func TestPeakMemoryChild(t *testing.T) {
	if os.Getenv("AGENTS_PEAK_MEMORY_CHILD") == "" {
		t.Skip("run by BenchmarkPeakMemory")
	}
	before := vmHWM(t)
	for range 5 {
		h, err := passwords.HashPassword(benchPassword)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := passwords.VerifyPassword(h, benchPassword); !ok {
			t.Fatal("no match")
		}
	}
	fmt.Printf("peak: %.1f %.1f\n", before, vmHWM(t))
}

// vmHWM returns the process's peak resident set size in MiB.
func vmHWM(t *testing.T) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
