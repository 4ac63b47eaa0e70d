package secrets_test

import (
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/secrets"
)

func TestValidateName(t *testing.T) {
	valid := []string{
		"a", "A", "0", ".", "-", "_", "+", "=", "@", "a.b", "org/acme/webchat", "convrs/webchat/org_01",
		"a/b/c", "a//b", "./a", "a/.", "a.", "user@example.com", "k=v+w", strings.Repeat("n", secrets.MaxNameLen),
	}
	for _, n := range valid {
		if err := secrets.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	invalid := []string{
		"", "/", "/a", "a/", "..", "a..b", "../a", "a/..", "a b", "a\tb", "a\nb", "a\x00", "a:b", "a*b", "a?b",
		"a#b", "a%b", "a\\b", "a,b", "a'b", "a\"b", "a~b", "a!b", "ü", "\xff", strings.Repeat("n", secrets.MaxNameLen+1),
	}
	for _, n := range invalid {
		err := secrets.ValidateName(n)
		if !problem.Is(err, problem.BadRequest) {
			t.Errorf("ValidateName(%q) = %v, want bad_request", n, err)
		}
	}
	// Every byte outside the charset is refused.
	for c := range 256 {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_+=.@-", rune(c))
		name := "a" + string([]byte{byte(c)}) + "a"
		if err := secrets.ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestValidateValue(t *testing.T) {
	tests := []struct {
		value []byte
		want  problem.Code // "" for nil
	}{
		{nil, problem.BadRequest},
		{[]byte{}, problem.BadRequest},
		{[]byte{0}, ""},
		{make([]byte, secrets.MaxValueLen), ""},
		{make([]byte, secrets.MaxValueLen+1), problem.TooLarge},
	}
	for _, tt := range tests {
		err := secrets.ValidateValue(tt.value)
		if tt.want == "" && err != nil || tt.want != "" && !problem.Is(err, tt.want) {
			t.Errorf("ValidateValue(%d bytes) = %v, want %q", len(tt.value), err, tt.want)
		}
	}
	// The message never quotes the value.
	v := []byte(strings.Repeat("s3cr3t", secrets.MaxValueLen))
	if err := secrets.ValidateValue(v); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ValidateValue(oversized) = %v, want an error that does not quote the value", err)
	}
}

func TestNotFound(t *testing.T) {
	err := secrets.NotFound("orgs/acme/webchat", nil)
	if err.Code != problem.NotFound || strings.Contains(err.Message, "acme") || !strings.Contains(err.Error(), "orgs/acme/webchat") {
		t.Errorf("NotFound = %#v: want not_found, a message without the name and a cause naming it", err)
	}
}
