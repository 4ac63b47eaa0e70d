package config

import (
	"fmt"
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

func TestLoadSigning(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:kms:eu-west-1:123456789012:key/0b1d6c8e-6f0a-4c1e-9a52-3f4c8a7e2d10"
	ok := map[string]string{"SIGNING_KEY_ID": arn, "TOKEN_ISSUER": "https://admin-api.example.com", "TOKEN_AUDIENCE": "convrs-admin"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		m[k] = v
		return m
	}
	got, err := Load(Needs{Signing: true}, env(with("SIGNING_KEYS_PUBLISHED", " alias/next , arn:aws:kms:eu-west-1:123456789012:key/old")))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{SigningKeyID: arn, SigningKeysPublished: []string{"alias/next", "arn:aws:kms:eu-west-1:123456789012:key/old"},
		TokenIssuer: "https://admin-api.example.com", TokenAudience: "convrs-admin"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got, err := Load(Needs{Signing: true}, env(with("SIGNING_KEYS_PUBLISHED", "  "))); err != nil || got.SigningKeysPublished != nil {
		t.Errorf("blank SIGNING_KEYS_PUBLISHED: %v, %v; want no published keys", got.SigningKeysPublished, err)
	}
	// Not needed: nothing is required, but what is set is still checked.
	if _, err := Load(Needs{}, env(nil)); err != nil {
		t.Errorf("not needed: %v", err)
	}
	if _, err := Load(Needs{}, env(map[string]string{"TOKEN_ISSUER": "http://example.com"})); err == nil || !strings.Contains(err.Error(), "TOKEN_ISSUER") {
		t.Errorf("an http issuer is refused even when not needed: %v", err)
	}
	var seven []string
	for i := range 7 {
		seven = append(seven, fmt.Sprintf("alias/k%d", i))
	}
	published7 := strings.Join(seven, ",")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no key", with("SIGNING_KEY_ID", ""), "SIGNING_KEY_ID must name the KMS key"},
		{"blank key", with("SIGNING_KEY_ID", "  "), "SIGNING_KEY_ID must name the KMS key"},
		{"empty item", with("SIGNING_KEYS_PUBLISHED", "alias/next,,alias/old"), "no empty item"},
		{"trailing comma", with("SIGNING_KEYS_PUBLISHED", "alias/next,"), "no empty item"},
		{"too many", with("SIGNING_KEYS_PUBLISHED", published7+",alias/k7"), "at most 7"},
		{"current published again", with("SIGNING_KEYS_PUBLISHED", arn), "lists the current key"},
		{"no issuer", with("TOKEN_ISSUER", ""), "TOKEN_ISSUER must be the deployment's public https base URL"},
		{"http issuer", with("TOKEN_ISSUER", "http://admin-api.example.com"), "TOKEN_ISSUER: signer: issuer \"http://admin-api.example.com\" must be an https URL"},
		{"trailing slash", with("TOKEN_ISSUER", "https://admin-api.example.com/"), "must not end with /"},
		{"issuer with a query", with("TOKEN_ISSUER", "https://admin-api.example.com?x=1"), "no user, query or fragment"},
		{"issuer not canonical", with("TOKEN_ISSUER", "https://admin-api.example.com/a b"), "canonical form"},
		{"no audience", with("TOKEN_AUDIENCE", ""), "TOKEN_AUDIENCE must be the tokens' audience"},
		{"audience with a space", with("TOKEN_AUDIENCE", "convrs admin"), "TOKEN_AUDIENCE"},
		{"audience with an invisible character", with("TOKEN_AUDIENCE", "convrs\u200badmin"), "TOKEN_AUDIENCE"},
		{"huge audience", with("TOKEN_AUDIENCE", strings.Repeat("a", 257)), "TOKEN_AUDIENCE"},
	} {
		_, err := Load(Needs{Signing: true}, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
	// Every problem at once, each named.
	_, err = Load(Needs{Signing: true}, env(nil))
	for _, v := range []string{"SIGNING_KEY_ID", "TOKEN_ISSUER", "TOKEN_AUDIENCE"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
	if _, err := Load(Needs{Signing: true}, env(with("SIGNING_KEYS_PUBLISHED", published7))); err != nil { // with the current one, 8
		t.Errorf("7 published keys are allowed: %v", err)
	}
}
