package iam_test

import (
	"slices"
	"testing"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/iam"
)

// The signing keys: publishing reads public keys only; signing may sign with the key in
// use (the stack's own or the rotation's) and never with a key that is only published.
// kmssigner calls GetPublicKey and Sign and nothing else (pkg/kmssigner's keys_test
// checks its requests against these grants).
func TestSignerGrants(t *testing.T) {
	t.Parallel()
	kms := func(n app.Needs) []iam.Grant {
		var out []iam.Grant
		for _, g := range iam.Grants(n) {
			if len(g.Action) > 4 && g.Action[:4] == "kms:" {
				out = append(out, g)
			}
		}
		return out
	}
	if got := kms(app.Needs{}); len(got) != 0 {
		t.Errorf("no signer: %v", got)
	}
	read := []iam.Grant{
		{"kms:GetPublicKey", iam.SigningKey, ""},
		{"kms:GetPublicKey", iam.SigningKeyParam, ""},
		{"kms:GetPublicKey", iam.PublishedSigningKeys, ""},
	}
	if got := kms(app.Needs{Signer: app.Read}); !slices.Equal(got, read) {
		t.Errorf("Read: %v, want %v", got, read)
	}
	write := append(slices.Clone(read), iam.Grant{"kms:Sign", iam.SigningKey, ""}, iam.Grant{"kms:Sign", iam.SigningKeyParam, ""})
	if got := kms(app.Needs{Signer: app.Write}); !slices.Equal(got, write) {
		t.Errorf("Write: %v, want %v", got, write)
	}
	for _, g := range kms(app.Needs{Signer: app.Write}) {
		if g.Action == "kms:Sign" && g.Resource == iam.PublishedSigningKeys {
			t.Errorf("a published key may never sign")
		}
		if g.LeadingKeys != "" {
			t.Errorf("%v: KMS grants carry no condition", g)
		}
	}
}
