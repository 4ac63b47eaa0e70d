package local

import (
	"testing"

	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

// Embedded signs with the dev key of its data folder, made on first use and the same
// key cmd/local's tokens are minted with; the issuer and audience are the local ones.
func TestEmbeddedSigner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	deps, store, err := Embedded(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if deps.Issuer != "http://127.0.0.1:3000" || deps.Audience != devkeys.Audience {
		t.Errorf("issuer %q, audience %q", deps.Issuer, deps.Audience)
	}
	if err := signer.ValidateIssuer(deps.Issuer); err != nil {
		t.Error(err)
	}
	signertest.Run(t, func(*testing.T) signer.Signer { return deps.Signer })
	dev, err := devkeys.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dev.Signer().Current(t.Context())
	got, err := deps.Signer.Current(t.Context())
	if err != nil || got.ID != want.ID || !got.Public.Equal(want.Public) {
		t.Errorf("Embedded's key %s, want the data folder's dev key %s (%v)", got.ID, want.ID, err)
	}
}
