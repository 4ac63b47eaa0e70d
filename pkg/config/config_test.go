package config

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		needs   Needs
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{"all set", Needs{Table: true, LogoBucket: true},
			map[string]string{"TABLE_NAME": "convrs", "LOGO_BUCKET": "logos", "LOG_LEVEL": "debug"},
			Config{TableName: "convrs", LogoBucket: "logos", LogLevel: slog.LevelDebug}, nil},
		{"bucket not needed", Needs{Table: true}, map[string]string{"TABLE_NAME": "convrs"}, Config{TableName: "convrs"}, nil},
		{"cursor key", Needs{Table: true, AuditCursorKey: true}, map[string]string{"TABLE_NAME": "convrs", "AUDIT_CURSOR_KEY": "0123456789abcdef0123456789abcdef"},
			Config{TableName: "convrs", AuditCursorKey: []byte("0123456789abcdef0123456789abcdef")}, nil},
		{"every problem at once", Needs{Table: true, LogoBucket: true, AuditCursorKey: true}, map[string]string{"TABLE_NAME": "ab", "LOG_LEVEL": "loud"},
			Config{}, []string{"TABLE_NAME", "LOGO_BUCKET", "LOG_LEVEL", "AUDIT_CURSOR_KEY"}},
		{"short cursor key", Needs{Table: true, AuditCursorKey: true}, map[string]string{"TABLE_NAME": "convrs", "AUDIT_CURSOR_KEY": "0123456789abcdef0123456789abcde"},
			Config{}, []string{"AUDIT_CURSOR_KEY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.needs, env(tc.env))
			if tc.wantErr == nil {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, %v; want %+v, nil", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want one naming %v", tc.wantErr)
			}
			for _, v := range tc.wantErr {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
		})
	}
}

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://admin-api.example.com":  "https://admin-api.example.com",
		"https://admin-api.example.com/": "https://admin-api.example.com",
		"https://example.com/convrs/":    "https://example.com/convrs",
		"http://127.0.0.1:3000":          "http://127.0.0.1:3000",
		"http://localhost:3000/":         "http://localhost:3000",
		"":                               "",
		"http://example.com":             "",
		"ftp://example.com":              "",
		"https://":                       "",
		"https://example.com?x=1":        "",
		"https://user:pw@example.com":    "",
		"example.com":                    "",
		"https://example.com/#frag":      "",
		"javascript:alert(1)":            "",
	} {
		got, err := ParseBaseURL(in)
		if (err == nil) != (want != "") || got != want {
			t.Errorf("ParseBaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
