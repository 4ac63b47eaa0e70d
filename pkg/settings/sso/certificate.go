package sso

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Limits of a pasted certificate. An identity provider's signing certificate is about
// 1-2 KB of PEM (RSA 2048 or 4096, or ECDSA); the limits leave room for large subjects
// and extensions while bounding what is parsed on every read.
const (
	// MaxCertificateChars bounds saml.certificate, once trimmed, in characters.
	MaxCertificateChars = 16384
	// MaxCertificateDER bounds the decoded certificate (DER) in bytes.
	MaxCertificateDER = 8192
	// ExpiryWarning is how long before its expiry a saved certificate draws a warning.
	ExpiryWarning = 30 * 24 * time.Hour
)

// Messages about saml.certificate that more than one place (or a test) uses.
const (
	msgPrivateKey = "a private key was pasted; paste the identity provider's certificate (BEGIN CERTIFICATE), never a key"
	msgNotPEM     = "must be a PEM certificate: the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----"
)

// pemSpace is the white space trimmed from a pasted certificate and from each of its
// lines. It is ASCII only, as openapi.yaml's pattern for the field says.
const pemSpace = " \t\r\n"

// TrimCertificate returns a pasted certificate without the white space around it: what
// is stored.
func TrimCertificate(s string) string { return strings.Trim(s, pemSpace) }

// normalizePEM returns text trimmed, with CRLF and CR line ends made LF and every line
// trimmed of spaces and tabs, so that a certificate copied from a Windows file, an email
// or an indented page parses.
func normalizePEM(text string) string {
	text = strings.ReplaceAll(TrimCertificate(text), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.ContainsAny(text, " \t") {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.Trim(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// parseCertificate parses text, a trimmed saml.certificate, as exactly one PEM
// "CERTIFICATE" block holding one X.509 certificate and nothing else. On failure it
// returns a field message that says what was pasted instead and what to paste; the
// message never quotes the text (a private key pasted by mistake must not be echoed).
// It does not judge the certificate's validity period (see checkValidity).
func parseCertificate(text string) (*x509.Certificate, string) {
	if n := len(text); n > MaxCertificateChars && (n > 4*MaxCertificateChars || utf8.RuneCountInString(text) > MaxCertificateChars) {
		return nil, "must be at most " + strconv.Itoa(MaxCertificateChars) + " characters; paste only the identity provider's signing certificate"
	}
	text = normalizePEM(text)
	lines := strings.Split(text, "\n")

	// What blocks does the text hold? A private key anywhere wins: it must be refused as
	// a key whatever else came with it.
	var types []string
	begin, end := -1, -1
	textBefore := false
	for i, l := range lines {
		if t, at, ok := pemLine(l, "-----BEGIN "); ok {
			types = append(types, t)
			if begin < 0 {
				begin, textBefore = i, i > 0 || at > 0
			}
		} else if _, _, ok := pemLine(l, "-----END "); ok && end < 0 {
			end = i
		}
	}
	for _, t := range types {
		if strings.Contains(t, "PRIVATE KEY") {
			return nil, msgPrivateKey
		}
	}
	switch {
	case len(types) == 0 && strings.Contains(text, "PRIVATE KEY"):
		return nil, msgPrivateKey
	case len(types) == 0 && end >= 0:
		return nil, "lacks the -----BEGIN CERTIFICATE----- line; paste the whole PEM certificate"
	case len(types) == 0:
		return nil, withoutPEMLines(text)
	case len(types) > 1:
		return nil, severalBlocks(types)
	}
	if msg := notCertificate(types[0]); msg != "" {
		return nil, msg
	}
	switch {
	case textBefore:
		return nil, "has text before -----BEGIN CERTIFICATE-----; paste only the certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----"
	case end < 0:
		return nil, "is incomplete: the -----END CERTIFICATE----- line is missing"
	case lines[end] != "-----END CERTIFICATE-----":
		return nil, "must end with -----END CERTIFICATE-----, the line that matches -----BEGIN CERTIFICATE-----"
	case end != len(lines)-1:
		return nil, "has text after -----END CERTIFICATE-----; paste only the certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----"
	}
	body := lines[1:end]
	for _, l := range body {
		if strings.ContainsRune(l, ':') {
			return nil, "has PEM headers (such as Proc-Type); paste the certificate without headers, as the identity provider shows it"
		}
	}
	b64 := strings.Join(body, "")
	if strings.ContainsAny(b64, " \t") {
		// As encoding/pem does: spaces inside the base64 are not data.
		b64 = strings.NewReplacer(" ", "", "\t", "").Replace(b64)
	}
	if len(b64) == 0 {
		return nil, "is empty between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----"
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	switch {
	case err != nil:
		return nil, "is not valid base64 between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----; paste the certificate again, whole"
	case len(der) > MaxCertificateDER:
		return nil, "holds a certificate of " + strconv.Itoa(len(der)) + " bytes, more than " + strconv.Itoa(MaxCertificateDER) + "; an identity provider's signing certificate is much smaller"
	}
	cert, err := x509.ParseCertificate(der)
	switch {
	case err != nil && isPrivateKey(der):
		// A key under a CERTIFICATE label is still a key.
		return nil, msgPrivateKey
	case err != nil:
		return nil, "is not a valid X.509 certificate (the data between the BEGIN and END lines does not parse); paste the certificate again, whole"
	}
	return cert, ""
}

// pemLine reports whether l is a PEM boundary line with the given prefix
// ("-----BEGIN " or "-----END "), possibly after other text, and returns its type and
// where the boundary starts.
func pemLine(l, prefix string) (typ string, at int, ok bool) {
	at = strings.Index(l, prefix)
	if at < 0 || !strings.HasSuffix(l, "-----") || len(l)-at < len(prefix)+len("-----") {
		return "", 0, false
	}
	return l[at+len(prefix) : len(l)-len("-----")], at, true
}

// withoutPEMLines explains a text without a BEGIN line: the base64 of a certificate or
// of a key pasted without its PEM lines, or anything else.
func withoutPEMLines(text string) string {
	b64 := strings.Map(func(r rune) rune {
		if r == '\n' {
			return -1
		}
		return r
	}, text)
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(der) > MaxCertificateDER {
		return msgNotPEM
	}
	if isPrivateKey(der) {
		return msgPrivateKey
	}
	if _, err := x509.ParseCertificate(der); err == nil {
		return "lacks the -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines; paste the whole PEM certificate, those lines included"
	}
	return msgNotPEM
}

// isPrivateKey reports whether der has the shape of a private key in one of the
// encodings PEM files carry: PKCS #8 (SEQUENCE {INTEGER 0|1, AlgorithmIdentifier, OCTET
// STRING, ...}), PKCS #1 RSA (SEQUENCE of at least nine INTEGERs, the first 0 or 1) or
// SEC 1 EC (SEQUENCE {INTEGER 1, OCTET STRING, ...}). The shape is enough to refuse it
// without quoting it back; the keys themselves are not parsed, which would validate an
// RSA key (milliseconds of CPU for a pasted 4096-bit key) and link the private-key code
// of every algorithm into the function for nothing. A certificate never has this shape:
// it starts with a SEQUENCE, not an INTEGER.
func isPrivateKey(der []byte) bool {
	var outer asn1.RawValue
	// Bytes after the SEQUENCE are allowed: crypto/x509's SEC 1 parser ignores them too.
	if _, err := asn1.Unmarshal(der, &outer); err != nil || outer.Class != asn1.ClassUniversal || outer.Tag != asn1.TagSequence {
		return false
	}
	var elems []asn1.RawValue
	for body := outer.Bytes; len(body) > 0; {
		var e asn1.RawValue
		rest, err := asn1.Unmarshal(body, &e)
		if err != nil || len(elems) == 16 {
			// Judge by the elements read so far: crypto/x509 does not read a SEC 1
			// key's optional trailing elements when they are malformed either.
			break
		}
		elems, body = append(elems, e), rest
	}
	universal := func(i, tag int) bool {
		return i < len(elems) && elems[i].Class == asn1.ClassUniversal && elems[i].Tag == tag && !elems[i].IsCompound
	}
	if !universal(0, asn1.TagInteger) || len(elems[0].Bytes) != 1 {
		return false
	}
	version := elems[0].Bytes[0]
	switch {
	case version <= 1 && len(elems) >= 3 && elems[1].Tag == asn1.TagSequence && elems[1].IsCompound && universal(2, asn1.TagOctetString):
		return true // PKCS #8 (version 1 is RFC 5958's OneAsymmetricKey)
	case version == 1 && universal(1, asn1.TagOctetString):
		return true // SEC 1 EC
	case version <= 1 && len(elems) >= 9:
		for i := range 9 {
			if !universal(i, asn1.TagInteger) {
				return false
			}
		}
		return true // PKCS #1 RSA
	}
	return false
}

// severalBlocks explains a text of several PEM blocks.
func severalBlocks(types []string) string {
	certs := 0
	for _, t := range types {
		if t == "CERTIFICATE" {
			certs++
		}
	}
	if certs == len(types) {
		return "holds " + strconv.Itoa(certs) + " certificates (a chain?); paste only the identity provider's signing certificate, one -----BEGIN CERTIFICATE----- block"
	}
	return "holds " + strconv.Itoa(len(types)) + " PEM blocks; paste only the identity provider's signing certificate, one -----BEGIN CERTIFICATE----- block"
}

// notCertificate explains a single PEM block of type t that is not a certificate ("" for
// a certificate).
func notCertificate(t string) string {
	switch {
	case t == "CERTIFICATE":
		return ""
	case strings.Contains(t, "CERTIFICATE REQUEST"):
		return "a certificate signing request (CSR) was pasted; paste the identity provider's signing certificate (BEGIN CERTIFICATE)"
	case strings.Contains(t, "PUBLIC KEY"):
		return "a public key was pasted; paste the identity provider's whole certificate (BEGIN CERTIFICATE), not just its key"
	case safeType(t):
		return "is a PEM block of type " + t + "; paste the identity provider's signing certificate (BEGIN CERTIFICATE)"
	}
	return "is a PEM block that is not a certificate; paste the identity provider's signing certificate (BEGIN CERTIFICATE)"
}

// safeType reports whether a PEM type may be quoted back: a short run of capital
// letters, digits and spaces, as PEM types are.
func safeType(t string) bool {
	if t == "" || len(t) > 40 {
		return false
	}
	for _, c := range []byte(t) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != ' ' {
			return false
		}
	}
	return true
}

// checkValidity returns what is wrong with cert's validity period at now ("" when
// nothing): expired, or not valid yet. A certificate is valid from NotBefore to NotAfter,
// both included, as crypto/x509 judges it.
func checkValidity(cert *x509.Certificate, now time.Time) string {
	switch {
	case now.After(cert.NotAfter):
		return "the certificate expired on " + cert.NotAfter.UTC().Format(time.RFC3339) + "; ask the identity provider for its current signing certificate"
	case now.Before(cert.NotBefore):
		return "the certificate is not valid until " + cert.NotBefore.UTC().Format(time.RFC3339) + "; paste a certificate that is valid now"
	}
	return ""
}

// CertificateInfo is what a saved certificate says, so that an admin can check what
// they pasted against what the identity provider shows.
type CertificateInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// SHA256 is the fingerprint of the certificate (its DER): upper-case hex bytes
	// separated by colons, as `openssl x509 -noout -fingerprint -sha256` prints it.
	SHA256 string `json:"sha256"`
}

func infoOf(cert *x509.Certificate) *CertificateInfo {
	sum := sha256.Sum256(cert.Raw)
	return &CertificateInfo{
		Subject:   cert.Subject.String(),
		Issuer:    cert.Issuer.String(),
		NotBefore: cert.NotBefore.UTC(),
		NotAfter:  cert.NotAfter.UTC(),
		SHA256:    fingerprint(sum[:]),
	}
}

// fingerprint formats bytes as upper-case hex pairs separated by colons.
func fingerprint(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var sb strings.Builder
	sb.Grow(len(h) + len(b))
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// expiryWarning returns the warning a saved certificate draws at now: when it expired,
// or when it expires if that is within ExpiryWarning (the boundary included); "" for
// none. Days are counted in UTC calendar days, to agree with the date shown.
func expiryWarning(cert *x509.Certificate, now time.Time) string {
	left := cert.NotAfter.Sub(now)
	end := cert.NotAfter.UTC()
	on := end.Format(time.DateOnly)
	switch {
	case left < 0:
		return "the certificate expired on " + on + "; SAML sign-in fails until it is replaced"
	case left > ExpiryWarning:
		return ""
	}
	now = now.UTC()
	days := int(time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).Sub(
		time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	switch days {
	case 0:
		return "the certificate expires on " + on + " (today)"
	case 1:
		return "the certificate expires on " + on + " (tomorrow)"
	}
	return "the certificate expires on " + on + " (in " + strconv.Itoa(days) + " days)"
}

// certCache keeps the last certificate parsed and what it says, so that a
// representation (which both presents the certificate and checks it for warnings) and
// repeated reads of one organisation parse and describe it once.
type certCache struct {
	last atomic.Pointer[parsedCert]
}

type parsedCert struct {
	text string
	cert *x509.Certificate // nil when the text does not parse
	info *CertificateInfo  // shared by every representation: never changed
}

// parse returns the certificate of a stored (trimmed) text and what it says, or nils
// when it has none or it does not parse.
func (c *certCache) parse(text string) (*x509.Certificate, *CertificateInfo) {
	if text == "" {
		return nil, nil
	}
	if p := c.last.Load(); p != nil && p.text == text {
		return p.cert, p.info
	}
	p := &parsedCert{text: text}
	if cert, msg := parseCertificate(text); msg == "" {
		p.cert, p.info = cert, infoOf(cert)
	}
	c.last.Store(p)
	return p.cert, p.info
}
