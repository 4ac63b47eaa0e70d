package webchat

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"strings"
	"time"
)

// newStoredKey makes a key: 32 random bytes (256 bits) written as unpadded base64url (43
// characters), and the HMAC key is that text itself, as UTF-8. That is what customers'
// JWT libraries do with a secret they are given as a string (jsonwebtoken's sign(payload,
// secret), jose's new TextEncoder().encode(secret), PyJWT, golang-jwt with []byte(secret)),
// so the secret works as shown, in any tool, without decoding. The kid is "wk_" and 16
// base32 characters (80 bits), a valid id (package ids).
func newStoredKey(now time.Time) *StoredKey {
	var raw [32]byte
	var id [10]byte
	_, _ = rand.Read(raw[:])
	_, _ = rand.Read(id[:])
	return &StoredKey{
		KID:       "wk_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(id[:])),
		Secret:    []byte(base64.RawURLEncoding.EncodeToString(raw[:])),
		CreatedAt: now,
	}
}
