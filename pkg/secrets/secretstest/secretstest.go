// Package secretstest is the contract suite every secrets.Store adapter must pass. An
// adapter's test calls Run with a constructor for fresh, empty stores.
//
// Failure messages never print a stored value in full, only its length and first bytes:
// the values here are test data, but the habit is the one adapters must keep.
package secretstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/secrets"
)

// Run runs the secrets.Store contract against stores made by newStore, which is called
// once per subtest and must return a new, empty store. Failures are reported through t;
// Run returns nothing.
func Run(t *testing.T, newStore func(t *testing.T) secrets.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s secrets.Store)
	}{
		{"GetMissing", testGetMissing},
		{"RoundTrip", testRoundTrip},
		{"BinarySafe", testBinarySafe},
		{"MaxValueLen", testMaxValueLen},
		{"PutReplaces", testPutReplaces},
		{"NamesIsolated", testNamesIsolated},
		{"LongestName", testLongestName},
		{"InvalidNames", testInvalidNames},
		{"ValueTooLarge", testValueTooLarge},
		{"EmptyValueRefused", testEmptyValueRefused},
		{"NoAliasing", testNoAliasing},
		{"ConcurrentNames", testConcurrentNames},
		{"ConcurrentReplace", testConcurrentReplace},
		{"ContextDone", testContextDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// show describes a value for a failure message without printing all of it.
func show(v []byte) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%d bytes %.8q...", len(v), v)
}

func mustPut(t *testing.T, s secrets.Store, name string, value []byte) {
	t.Helper()
	if err := s.Put(t.Context(), name, value); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func mustGet(t *testing.T, s secrets.Store, name string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Get(%q) = %s, want %s", name, show(got), show(want))
	}
}

func wantCode(t *testing.T, what string, err error, code problem.Code) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Errorf("%s: error = %v (%T), want *problem.Error with code %q", what, err, err, code)
		return
	}
	if pe.Code != code {
		t.Errorf("%s: code = %q (%v), want %q", what, pe.Code, err, code)
	}
}

func wantNotFound(t *testing.T, s secrets.Store, name string) {
	t.Helper()
	v, err := s.Get(t.Context(), name)
	wantCode(t, fmt.Sprintf("Get(%q)", name), err, problem.NotFound)
	if v != nil {
		t.Errorf("Get(%q) = %s with an error, want nil", name, show(v))
	}
}

// keySet is a value shaped like a WebChat key set.
func keySet(kid string) []byte {
	return fmt.Appendf(nil, `{"current":{"kid":%q,"secret":"c2VjcmV0LWJ5dGVzLWZvci0%s","createdAt":"2025-01-02T03:04:05Z"}}`, kid, kid)
}

func testGetMissing(t *testing.T, s secrets.Store) {
	wantNotFound(t, s, "missing")
	wantNotFound(t, s, "orgs/missing/webchat")
	mustPut(t, s, "orgs/demo/webchat", keySet("k1"))
	wantNotFound(t, s, "orgs/demo")
	wantNotFound(t, s, "orgs/demo/webchat/child")
	wantNotFound(t, s, "orgs/demo/webcha")
}

func testRoundTrip(t *testing.T, s secrets.Store) {
	v := keySet("k1")
	mustPut(t, s, "orgs/demo/webchat", v)
	mustGet(t, s, "orgs/demo/webchat", v)
	// Reading twice gives the same value: Get does not consume it.
	mustGet(t, s, "orgs/demo/webchat", v)
}

func testBinarySafe(t *testing.T, s secrets.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	mustPut(t, s, "bytes", all)
	mustGet(t, s, "bytes", all)
	for name, v := range map[string][]byte{
		"nul":       {0},
		"invalid-8": []byte("\xff\xfe not UTF-8 \xc3\x28"),
		"crlf":      []byte("line\r\nline\n"),
		"spaces":    []byte("  padded  "),
		"json-ish":  []byte(`{"a":"\u0000\"}`),
	} {
		mustPut(t, s, name, v)
		mustGet(t, s, name, v)
	}
}

func testMaxValueLen(t *testing.T, s secrets.Store) {
	v := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), secrets.MaxValueLen/18+1)[:secrets.MaxValueLen]
	mustPut(t, s, "largest", v)
	mustGet(t, s, "largest", v)
}

func testPutReplaces(t *testing.T, s secrets.Store) {
	mustPut(t, s, "orgs/demo/webchat", []byte("first version, longer than the second one"))
	mustPut(t, s, "orgs/demo/webchat", []byte("second"))
	mustGet(t, s, "orgs/demo/webchat", []byte("second"))
	mustPut(t, s, "orgs/demo/webchat", []byte("third, longer again than the second"))
	mustGet(t, s, "orgs/demo/webchat", []byte("third, longer again than the second"))
	// Putting the same value again is a replacement like any other.
	mustPut(t, s, "orgs/demo/webchat", []byte("third, longer again than the second"))
	mustGet(t, s, "orgs/demo/webchat", []byte("third, longer again than the second"))
}

func testNamesIsolated(t *testing.T, s secrets.Store) {
	// Names that are prefixes of each other, differ only in case or in one punctuation
	// character, or look like another name's file or key decoration.
	names := []string{
		"org/a", "org/ab", "org/a/b", "org", "org/A", "Org/a", "org/a.", "org/a-", "org/a_",
		"org.a", "org-a", "org_a", "org+a", "org=a", "org@a", "a", "A", "a.tmp", ".a", "a.d",
		"a.secret", "a/b", "a/b/c", "a=", "a==", "a+", "=", "@", ".", "-", "_", "+", "0", "00",
		"61", "6f72672f61",
	}
	for _, n := range names {
		mustPut(t, s, n, []byte("value of "+n))
	}
	for _, n := range names {
		mustGet(t, s, n, []byte("value of "+n))
	}
	// Replacing one leaves its neighbours alone.
	mustPut(t, s, "org/a", []byte("replaced"))
	mustGet(t, s, "org/a", []byte("replaced"))
	mustGet(t, s, "org/ab", []byte("value of org/ab"))
	mustGet(t, s, "org/a/b", []byte("value of org/a/b"))
	mustGet(t, s, "org", []byte("value of org"))
}

func testLongestName(t *testing.T, s secrets.Store) {
	long := strings.Repeat("n", secrets.MaxNameLen)
	longer := strings.Repeat("n", secrets.MaxNameLen-1)
	nested := strings.Repeat("a/", secrets.MaxNameLen/2-1) + "zz"
	for _, n := range []string{long, longer, nested} {
		mustPut(t, s, n, []byte(fmt.Sprintf("%d", len(n))))
	}
	for _, n := range []string{long, longer, nested} {
		mustGet(t, s, n, []byte(fmt.Sprintf("%d", len(n))))
	}
}

func testInvalidNames(t *testing.T, s secrets.Store) {
	tests := []struct {
		name  string
		alike []string // valid names the refused Put must not have touched
	}{
		{"", nil},
		{"/", nil},
		{"/abs", []string{"abs"}},
		{"abs/", []string{"abs"}},
		{"..", nil},
		{"../escape", []string{"escape"}},
		{"a/../b", []string{"b", "a/b"}},
		{"a/..", []string{"a"}},
		{"a..b", []string{"a.b", "ab"}},
		{"with space", []string{"withspace"}},
		{"tab\t", []string{"tab"}},
		{"new\nline", []string{"newline"}},
		{"nul\x00", []string{"nul"}},
		{"back\\slash", []string{"backslash", "back/slash"}},
		{"q?x", nil},
		{"hash#x", nil},
		{"pct%2F", nil},
		{"colon:x", nil},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", nil},
		{"star*", nil},
		{"comma,x", nil},
		{"quote\"x", nil},
		{"ümlaut", []string{"mlaut"}},
		{strings.Repeat("n", secrets.MaxNameLen+1), []string{strings.Repeat("n", secrets.MaxNameLen)}},
	}
	for _, tt := range tests {
		wantCode(t, fmt.Sprintf("Put(%q)", tt.name), s.Put(t.Context(), tt.name, []byte("x")), problem.BadRequest)
		v, err := s.Get(t.Context(), tt.name)
		wantCode(t, fmt.Sprintf("Get(%q)", tt.name), err, problem.BadRequest)
		if v != nil {
			t.Errorf("Get(%q) = %s with an error, want nil", tt.name, show(v))
		}
		for _, n := range tt.alike {
			wantNotFound(t, s, n)
		}
		if err := secrets.ValidateName(tt.name); !problem.Is(err, problem.BadRequest) {
			t.Errorf("ValidateName(%q) = %v, want bad_request", tt.name, err)
		}
	}
}

func testValueTooLarge(t *testing.T, s secrets.Store) {
	big := bytes.Repeat([]byte("x"), secrets.MaxValueLen+1)
	wantCode(t, "Put of MaxValueLen+1 bytes", s.Put(t.Context(), "big", big), problem.TooLarge)
	wantNotFound(t, s, "big")
	// A refused replacement keeps the current value.
	mustPut(t, s, "kept", []byte("current"))
	wantCode(t, "Put of MaxValueLen+1 bytes over a value", s.Put(t.Context(), "kept", big), problem.TooLarge)
	mustGet(t, s, "kept", []byte("current"))
}

func testEmptyValueRefused(t *testing.T, s secrets.Store) {
	for _, v := range [][]byte{nil, {}} {
		wantCode(t, fmt.Sprintf("Put(%#v)", v), s.Put(t.Context(), "empty", v), problem.BadRequest)
	}
	wantNotFound(t, s, "empty")
	mustPut(t, s, "kept", []byte("current"))
	wantCode(t, "Put(empty) over a value", s.Put(t.Context(), "kept", nil), problem.BadRequest)
	mustGet(t, s, "kept", []byte("current"))
}

func testNoAliasing(t *testing.T, s secrets.Store) {
	v := []byte("original")
	mustPut(t, s, "alias", v)
	copy(v, "MUTATED!")
	mustGet(t, s, "alias", []byte("original"))

	got, err := s.Get(t.Context(), "alias")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	copy(got, "CHANGED!")
	mustGet(t, s, "alias", []byte("original"))
}

func testConcurrentNames(t *testing.T, s secrets.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("orgs/org-%d/webchat", i)
			if err := s.Put(t.Context(), name, keySet(name)); err != nil {
				errs <- fmt.Errorf("Put(%q): %w", name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		name := fmt.Sprintf("orgs/org-%d/webchat", i)
		mustGet(t, s, name, keySet(name))
	}
}

func testConcurrentReplace(t *testing.T, s secrets.Store) {
	// Readers racing writers of one name see a complete version, never a torn one.
	const writers, readers, rounds = 4, 4, 8
	value := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 2048+w) }
	mustPut(t, s, "shared", value(0))

	var wg sync.WaitGroup
	errs := make(chan error, (writers+readers)*rounds)
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				if err := s.Put(t.Context(), "shared", value(w)); err != nil {
					errs <- fmt.Errorf("put: %w", err)
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds {
				v, err := s.Get(t.Context(), "shared")
				if err != nil {
					errs <- fmt.Errorf("get: %w", err)
					continue
				}
				if w := len(v) - 2048; w < 0 || w >= writers || !bytes.Equal(v, value(w)) {
					errs <- fmt.Errorf("get: torn read: %s", show(v))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testContextDone(t *testing.T, s secrets.Store) {
	mustPut(t, s, "present", []byte("x"))

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()

	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		if err := c.ctx.Err(); !errors.Is(err, c.want) {
			t.Fatalf("test context error = %v, want %v", err, c.want)
		}
		if err := s.Put(c.ctx, "done", []byte("x")); !errors.Is(err, c.want) {
			t.Errorf("Put with done context = %v, want %v", err, c.want)
		}
		if err := s.Put(c.ctx, "present", []byte("y")); !errors.Is(err, c.want) {
			t.Errorf("Put over a value with done context = %v, want %v", err, c.want)
		}
		if v, err := s.Get(c.ctx, "present"); !errors.Is(err, c.want) || v != nil {
			t.Errorf("Get with done context = %s, %v; want nil, %v", show(v), err, c.want)
		}
		if _, err := s.Get(c.ctx, "done"); !errors.Is(err, c.want) {
			t.Errorf("Get of a missing name with done context = %v, want %v", err, c.want)
		}
	}
	wantNotFound(t, s, "done")
	mustGet(t, s, "present", []byte("x"))
}
