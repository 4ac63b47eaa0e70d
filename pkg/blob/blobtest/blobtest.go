// Package blobtest is the contract suite every blob.Store adapter must pass. An
// adapter's test calls Run with a constructor for fresh, empty stores.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/problem"
)

// Run runs the blob.Store contract against stores made by newStore, which is called
// once per subtest and must return a new, empty store. Failures are reported through t;
// Run returns nothing.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"BinaryAndLargeData", testBinaryAndLargeData},
		{"EmptyData", testEmptyData},
		{"DefaultContentType", testDefaultContentType},
		{"Overwrite", testOverwrite},
		{"GetMissing", testGetMissing},
		{"DeleteThenGet", testDeleteThenGet},
		{"DeleteMissing", testDeleteMissing},
		{"NestedKeys", testNestedKeys},
		{"KeysAreDistinct", testKeysAreDistinct},
		{"NoAliasing", testNoAliasing},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidContentType", testInvalidContentType},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentOverwrite", testConcurrentOverwrite},
		{"ContextCancelled", testContextCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func mustPut(t *testing.T, s blob.Store, key, contentType string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, contentType, data); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s blob.Store, key, wantType string, wantData []byte) {
	t.Helper()
	obj, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if obj.ContentType != wantType {
		t.Errorf("Get(%q) content type = %q, want %q", key, obj.ContentType, wantType)
	}
	if !bytes.Equal(obj.Data, wantData) {
		t.Errorf("Get(%q) data = %d bytes %.32q, want %d bytes %.32q", key, len(obj.Data), obj.Data, len(wantData), wantData)
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

func wantNotFound(t *testing.T, s blob.Store, key string) {
	t.Helper()
	obj, err := s.Get(t.Context(), key)
	wantCode(t, fmt.Sprintf("Get(%q)", key), err, problem.NotFound)
	if obj.ContentType != "" || obj.Data != nil {
		t.Errorf("Get(%q) = %+v with error, want zero Object", key, obj)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	mustPut(t, s, "orgs/demo/logo", "image/png", []byte("\x89PNG fake"))
	mustGet(t, s, "orgs/demo/logo", "image/png", []byte("\x89PNG fake"))
}

func testBinaryAndLargeData(t *testing.T, s blob.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	mustPut(t, s, "bytes", "application/octet-stream", all)
	mustGet(t, s, "bytes", "application/octet-stream", all)

	large := bytes.Repeat([]byte("0123456789abcdef\x00\xff\r\n"), 80000) // 1.6 MB
	mustPut(t, s, "large", "image/jpeg", large)
	mustGet(t, s, "large", "image/jpeg", large)
}

func testEmptyData(t *testing.T, s blob.Store) {
	mustPut(t, s, "empty", "text/plain", nil)
	obj, err := s.Get(t.Context(), "empty")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(obj.Data) != 0 || obj.ContentType != "text/plain" {
		t.Errorf("Get = %q %q, want empty text/plain", obj.ContentType, obj.Data)
	}
}

func testDefaultContentType(t *testing.T, s blob.Store) {
	mustPut(t, s, "untyped", "", []byte("x"))
	mustGet(t, s, "untyped", blob.DefaultContentType, []byte("x"))
}

func testOverwrite(t *testing.T, s blob.Store) {
	mustPut(t, s, "orgs/demo/logo", "image/png", []byte("first version, longer than the second"))
	mustPut(t, s, "orgs/demo/logo", "image/gif", []byte("second"))
	mustGet(t, s, "orgs/demo/logo", "image/gif", []byte("second"))
}

func testGetMissing(t *testing.T, s blob.Store) {
	wantNotFound(t, s, "missing")
	wantNotFound(t, s, "orgs/missing/logo")
	mustPut(t, s, "orgs/demo/logo", "image/png", []byte("x"))
	wantNotFound(t, s, "orgs/demo")
	wantNotFound(t, s, "orgs/demo/logo/child")
	wantNotFound(t, s, "orgs/demo/log")
}

func testDeleteThenGet(t *testing.T, s blob.Store) {
	mustPut(t, s, "orgs/demo/logo", "image/png", []byte("x"))
	if err := s.Delete(t.Context(), "orgs/demo/logo"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, "orgs/demo/logo")
	// The key can be reused after deletion.
	mustPut(t, s, "orgs/demo/logo", "image/gif", []byte("y"))
	mustGet(t, s, "orgs/demo/logo", "image/gif", []byte("y"))
}

func testDeleteMissing(t *testing.T, s blob.Store) {
	for _, key := range []string{"never-stored", "orgs/none/logo"} {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) of absent key: %v", key, err)
		}
	}
	mustPut(t, s, "twice", "text/plain", []byte("x"))
	for i := range 2 {
		if err := s.Delete(t.Context(), "twice"); err != nil {
			t.Errorf("Delete #%d: %v", i+1, err)
		}
	}
}

func testNestedKeys(t *testing.T, s blob.Store) {
	// A key may be both an object and the prefix of other objects, as in S3.
	keys := []string{"orgs/demo", "orgs/demo/logo", "orgs/demo/logo/small", "orgs/demo.blob", "orgs/demo.d/x"}
	for i, k := range keys {
		mustPut(t, s, k, "text/plain", []byte(k+fmt.Sprint(i)))
	}
	for i, k := range keys {
		mustGet(t, s, k, "text/plain", []byte(k+fmt.Sprint(i)))
	}
	if err := s.Delete(t.Context(), "orgs/demo/logo"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, "orgs/demo/logo")
	mustGet(t, s, "orgs/demo", "text/plain", []byte("orgs/demo0"))
	mustGet(t, s, "orgs/demo/logo/small", "text/plain", []byte("orgs/demo/logo/small2"))
}

func testKeysAreDistinct(t *testing.T, s blob.Store) {
	keys := []string{"a", "A", "a.", "a-", "a_", ".a", "a.meta", "a.tmp", "_a", "a/b", "a_b", "a-b", "a.b", "x/y/z.png"}
	for _, k := range keys {
		mustPut(t, s, k, "text/plain", []byte("value of "+k))
	}
	for _, k := range keys {
		mustGet(t, s, k, "text/plain", []byte("value of "+k))
	}
}

func testNoAliasing(t *testing.T, s blob.Store) {
	data := []byte("original")
	mustPut(t, s, "alias", "text/plain", data)
	copy(data, "MUTATED!")
	mustGet(t, s, "alias", "text/plain", []byte("original"))

	obj, err := s.Get(t.Context(), "alias")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	copy(obj.Data, "CHANGED!")
	mustGet(t, s, "alias", "text/plain", []byte("original"))
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	keys := []string{
		"", "/", "/abs", "abs/", "..", "../escape", "a/../b", "a/..", "a..b", ".", "./a", "a/./b", "a//b",
		"with space", "tab\t", "new\nline", "nul\x00", "back\\slash", "q?x", "hash#x", "pct%2F",
		"colon:x", "star*", "ümlaut", string(bytes.Repeat([]byte("k"), blob.MaxKeyLen+1)),
	}
	for _, key := range keys {
		wantCode(t, fmt.Sprintf("Put(%q)", key), s.Put(t.Context(), key, "text/plain", []byte("x")), problem.BadRequest)
		_, err := s.Get(t.Context(), key)
		wantCode(t, fmt.Sprintf("Get(%q)", key), err, problem.BadRequest)
		wantCode(t, fmt.Sprintf("Delete(%q)", key), s.Delete(t.Context(), key), problem.BadRequest)
	}
	// The longest valid key works.
	long := string(bytes.Repeat([]byte("k"), 100)) + "/" + string(bytes.Repeat([]byte("k"), 100))
	mustPut(t, s, long, "text/plain", []byte("long"))
	mustGet(t, s, long, "text/plain", []byte("long"))
}

func testInvalidContentType(t *testing.T, s blob.Store) {
	for _, ct := range []string{"text/plain\r\nX-Injected: 1", "image/png\x00", "bild/ü", string(bytes.Repeat([]byte("t"), blob.MaxContentTypeLen+1))} {
		wantCode(t, fmt.Sprintf("Put(content type %q)", ct), s.Put(t.Context(), "ct", ct, []byte("x")), problem.BadRequest)
	}
	wantNotFound(t, s, "ct")
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("orgs/org-%d/logo", i)
			if err := s.Put(t.Context(), key, "image/png", []byte(key)); err != nil {
				errs <- fmt.Errorf("Put(%q): %w", key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		key := fmt.Sprintf("orgs/org-%d/logo", i)
		mustGet(t, s, key, "image/png", []byte(key))
	}
}

func testConcurrentOverwrite(t *testing.T, s blob.Store) {
	// Readers racing writers of one key see a complete version, never a torn one.
	const writers, readers, rounds = 4, 4, 8
	value := func(w int) ([]byte, string) {
		return bytes.Repeat([]byte{byte('a' + w)}, 4096+w), fmt.Sprintf("text/x-%d", w)
	}
	data, ct := value(0)
	mustPut(t, s, "shared", ct, data)

	var wg sync.WaitGroup
	errs := make(chan error, (writers+readers)*rounds)
	for w := range writers {
		wg.Go(func() {
			data, ct := value(w)
			for range rounds {
				if err := s.Put(t.Context(), "shared", ct, data); err != nil {
					errs <- fmt.Errorf("put: %w", err)
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range rounds {
				obj, err := s.Get(t.Context(), "shared")
				if err != nil {
					errs <- fmt.Errorf("get: %w", err)
					continue
				}
				w := len(obj.Data) - 4096
				if w < 0 || w >= writers {
					errs <- fmt.Errorf("get: torn read of %d bytes", len(obj.Data))
					continue
				}
				data, ct := value(w)
				if !bytes.Equal(obj.Data, data) || obj.ContentType != ct {
					errs <- fmt.Errorf("get: torn read: %q with %d bytes", obj.ContentType, len(obj.Data))
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

func testContextCancelled(t *testing.T, s blob.Store) {
	mustPut(t, s, "present", "text/plain", []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	if err := s.Put(ctx, "cancelled", "text/plain", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, "present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with cancelled context = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with cancelled context = %v, want context.Canceled", err)
	}
	wantNotFound(t, s, "cancelled")
	mustGet(t, s, "present", "text/plain", []byte("x"))
}
