package webchatfn

import "strings"

// Integration is the integration example: how a customer's backend signs the widget
// token with the org's secret, and the page snippet that hands it to the widget.
type Integration struct {
	OrgID string `json:"orgId"`
	// KID is the current key's id (empty before a secret is generated).
	KID      string    `json:"kid"`
	Claims   string    `json:"claims"`
	Examples []Snippet `json:"examples"`
	Page     string    `json:"page"`
}

// Snippet is one example in one language.
type Snippet struct {
	Language string `json:"language"`
	Library  string `json:"library"`
	Code     string `json:"code"`
}

const claimsHelp = "sub (required: your user id), exp (required: a few minutes ahead), iat, nbf, name, email; " +
	"HS256 only, with the key id in the kid header; at most 4 KiB; 30 s of clock skew allowed. " +
	"Keep the secret on your server: never put it in the page."

// Example returns the integration example of orgID whose current key is kid. The secret
// is never in it: the examples read it from the environment.
func Example(orgID, kid string) Integration {
	if kid == "" {
		kid = "YOUR_KEY_ID"
	}
	r := strings.NewReplacer("{kid}", kid, "{org}", orgID)
	return Integration{OrgID: orgID, KID: kid, Claims: claimsHelp, Examples: []Snippet{
		{"javascript", "jose (npm)", r.Replace(`import { SignJWT } from "jose";

const secret = new TextEncoder().encode(process.env.CONVRS_WEBCHAT_SECRET);
const token = await new SignJWT({ name: user.name, email: user.email })
  .setProtectedHeader({ alg: "HS256", kid: "{kid}" })
  .setSubject(String(user.id))
  .setIssuedAt()
  .setExpirationTime("10m")
  .sign(secret);`)},
		{"go", "github.com/golang-jwt/jwt/v5", r.Replace(`t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
	"sub": user.ID, "name": user.Name, "email": user.Email,
	"iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix(),
})
t.Header["kid"] = "{kid}"
token, err := t.SignedString([]byte(os.Getenv("CONVRS_WEBCHAT_SECRET")))`)},
		{"python", "PyJWT", r.Replace(`import os, time, jwt

token = jwt.encode(
    {"sub": str(user.id), "name": user.name, "email": user.email,
     "iat": int(time.time()), "exp": int(time.time()) + 600},
    os.environ["CONVRS_WEBCHAT_SECRET"], algorithm="HS256", headers={"kid": "{kid}"})`)},
	}, Page: r.Replace(`<script>
  // Before the widget loads: the token your server signed for the signed-in user.
  window.ConvrsUser = { token: "TOKEN_FROM_YOUR_SERVER" };
</script>
<script src="https://widget.convrs.com/v1/widget.js" data-org="{org}" async></script>`)}
}
