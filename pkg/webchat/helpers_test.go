package webchat_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/webchat"
)

func auditQuery() audit.Query { return audit.Query{Area: webchat.Area} }

func containsBytes(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
