package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/convrs/admin/pkg/webchat/token"
)

// SecretEnv is the environment variable WebchatToken reads the secret from when it is not
// given a key file; the integration example's snippets read the same one.
const SecretEnv = "CONVRS_WEBCHAT_SECRET"

// maxKeyFile bounds the key file WebchatToken reads (a generate or rotate answer is ~200
// bytes).
const maxKeyFile = 64 << 10

// WebchatToken is `go run ./cmd/local webchat-token`: it signs a widget token (HS256, the
// key id in the kid header) as a customer's backend would, for trying the identify and
// verify routes. The key comes from -key FILE, a generate or rotate answer saved as is
// ({"kid", "secret", ...}), or from -kid with the secret in $CONVRS_WEBCHAT_SECRET (never
// a flag: command lines end up in shell history and process lists). The tests of the
// README tour call it as the tour does.
func WebchatToken(args []string, getenv func(string) string, readFile func(string) ([]byte, error), now time.Time, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet("webchat-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "a generate or rotate answer saved as a file ({\"kid\",\"secret\",...})")
	kid := fs.String("kid", "", "the key id, with the secret in $"+SecretEnv+" (instead of -key)")
	sub := fs.String("sub", "", "the user id (required)")
	name := fs.String("name", "", "the user's name")
	email := fs.String("email", "", "the user's email address")
	ttl := fs.Duration("ttl", 10*time.Minute, "lifetime (exp - iat); negative for an expired token")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("webchat-token: unexpected arguments %q", fs.Args())
	}
	if *sub == "" {
		fs.Usage()
		return "", errors.New("webchat-token: -sub is required")
	}
	var key token.Key
	switch {
	case *keyFile != "" && *kid != "":
		return "", errors.New("webchat-token: give -key or -kid, not both")
	case *keyFile != "":
		data, err := readFile(*keyFile)
		if err != nil {
			return "", fmt.Errorf("webchat-token: %w", err)
		}
		if len(data) > maxKeyFile {
			return "", fmt.Errorf("webchat-token: %s is not a generate or rotate answer (%d bytes)", *keyFile, len(data))
		}
		var issued struct {
			KID    string `json:"kid"`
			Secret string `json:"secret"`
		}
		// Not strict: the answer holds createdAt and previous too.
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&issued); err != nil || issued.KID == "" || issued.Secret == "" {
			// The file's text is not quoted back: it may hold a secret.
			return "", fmt.Errorf("webchat-token: %s is not a generate or rotate answer ({\"kid\":...,\"secret\":...})", *keyFile)
		}
		key = token.Key{KID: issued.KID, Secret: []byte(issued.Secret)}
	case *kid != "":
		secret := getenv(SecretEnv)
		if secret == "" {
			return "", fmt.Errorf("webchat-token: -kid needs the secret in $%s", SecretEnv)
		}
		key = token.Key{KID: *kid, Secret: []byte(secret)}
	default:
		fs.Usage()
		return "", errors.New("webchat-token: -key FILE or -kid KID is required")
	}
	claims := map[string]any{"sub": *sub, "iat": now.Unix(), "exp": now.Add(*ttl).Unix()}
	if *name != "" {
		claims["name"] = *name
	}
	if *email != "" {
		claims["email"] = *email
	}
	return token.Sign(key, claims)
}
