package blob

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/problem"
)

func TestValidateKey(t *testing.T) {
	valid := []string{"a", "orgs/demo/logo", "A-Z_0.9", "x/y.png", ".hidden", "a.", strings.Repeat("k", MaxKeyLen)}
	for _, k := range valid {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	invalid := []string{"", "/a", "a/", "..", "a/../b", "a..b", ".", "a/./b", "a//b", "a b", "ü", "a\\b", "a\x00", strings.Repeat("k", MaxKeyLen+1)}
	for _, k := range invalid {
		if err := ValidateKey(k); !problem.Is(err, problem.BadRequest) {
			t.Errorf("ValidateKey(%q) = %v, want bad_request", k, err)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", DefaultContentType, true},
		{"image/png", "image/png", true},
		{"text/plain; charset=utf-8", "text/plain; charset=utf-8", true},
		{"text/plain\r\nX: y", "", false},
		{"image/\x7f", "", false},
		{strings.Repeat("t", MaxContentTypeLen+1), "", false},
	}
	for _, tt := range tests {
		got, err := ContentType(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ContentType(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !problem.Is(err, problem.BadRequest) {
			t.Errorf("ContentType(%q) error %v is not bad_request", tt.in, err)
		}
	}
}

func TestNotFound(t *testing.T) {
	err := NotFound("orgs/demo/logo", fs.ErrNotExist)
	if err.Code != problem.NotFound || strings.Contains(err.Message, "orgs") {
		t.Errorf("NotFound = %+v, want not_found without the key in the message", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "orgs/demo/logo") {
		t.Errorf("NotFound error %q does not keep key and cause", err)
	}
	if err := NotFound("k", nil); err.Err == nil {
		t.Error("NotFound without cause has no detail for the logs")
	}
}
