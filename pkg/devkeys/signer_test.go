package devkeys

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/signer"
	"github.com/convrs/admin/pkg/signer/signertest"
)

func TestSignerContract(t *testing.T) {
	t.Parallel()
	k := New(mustKey(t), nil)
	signertest.Run(t, func(*testing.T) signer.Signer { return k.Signer() })
}

// TestSignerSurvivesRestart: the dev key's kid and published key are the same after the
// local server restarts, so a token signed before verifies after.
func TestSignerSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	tok := signertest.MustMint(t, a.Signer(), signertest.Claims(now))
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, kid, err := signertest.Verify(tok, signertest.MustJWKS(t, b.Signer()), now)
	cur, _ := b.Signer().Current(context.Background())
	if err != nil || kid != cur.ID {
		t.Errorf("after a restart: kid %s (current %s), %v", kid, cur.ID, err)
	}
}
