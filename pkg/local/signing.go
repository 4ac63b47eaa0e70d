package local

import (
	"context"
	"sync"

	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/signer"
)

// devSigner is the signer.Signer of the dev key kept in a data folder (devkeys): the key
// is read, or made, on first use, so that the many tests that open embedded adapters and
// never sign do not each pay for a new RSA key.
type devSigner struct {
	load func() (*signer.KeySigner, error)
}

var _ signer.Signer = devSigner{}

func newDevSigner(dir string) devSigner {
	return devSigner{load: sync.OnceValues(func() (*signer.KeySigner, error) {
		k, err := devkeys.LoadOrCreate(dir)
		if err != nil {
			return nil, err
		}
		return k.Signer(), nil
	})}
}

// Current returns the dev key.
func (s devSigner) Current(ctx context.Context) (signer.Key, error) {
	k, err := s.load()
	if err != nil {
		return signer.Key{}, err
	}
	return k.Current(ctx)
}

// Sign signs digest with the dev key.
func (s devSigner) Sign(ctx context.Context, kid string, digest []byte) ([]byte, error) {
	k, err := s.load()
	if err != nil {
		return nil, err
	}
	return k.Sign(ctx, kid, digest)
}

// PublicKeys returns the dev key's public key.
func (s devSigner) PublicKeys(ctx context.Context) ([]signer.Key, error) {
	k, err := s.load()
	if err != nil {
		return nil, err
	}
	return k.PublicKeys(ctx)
}
