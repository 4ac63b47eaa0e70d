package webchatfn_test

import "github.com/golang-jwt/jwt/v5"

// jwtHS512 signs an HS512 token, an algorithm the widget may not use.
func jwtHS512(kid, secret string, claims map[string]any) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(claims))
	t.Header["kid"] = kid
	return t.SignedString([]byte(secret))
}
