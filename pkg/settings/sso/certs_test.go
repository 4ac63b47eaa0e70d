package sso_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// samplePEM is the long-lived certificate of events/sso/put.json and the README tour
// (ECDSA P-256, self-signed, valid 2026-01-01 to 2036-01-01).
const samplePEM = `-----BEGIN CERTIFICATE-----
MIIBZDCCAQqgAwIBAgIEATUlBTAKBggqhkjOPQQDAjAwMRQwEgYDVQQKEwtFeGFt
cGxlIElkUDEYMBYGA1UEAxMPaWRwLmV4YW1wbGUuY29tMB4XDTI2MDEwMTAwMDAw
MFoXDTM2MDEwMTAwMDAwMFowMDEUMBIGA1UEChMLRXhhbXBsZSBJZFAxGDAWBgNV
BAMTD2lkcC5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLic
pcVbn2p90onE4hSsmvoDpYk1XCL/sRbaMxnoTLrKbGfLs0nq7Tcecyx97VGjF1dd
WwK8OsKP1W+UXDS3a3OjEjAQMA4GA1UdDwEB/wQEAwIHgDAKBggqhkjOPQQDAgNI
ADBFAiEAvNxvDswi1PpWZQl2tF7BallvEOsayddm32kJyowSD0ACIFAaTf63b4ky
koVup+Li/HeOef9878/yy29TIqwIuBKX
-----END CERTIFICATE-----
`

// sampleSHA256 is samplePEM's fingerprint, as openssl prints it.
const sampleSHA256 = "7F:CA:F6:8B:C7:0D:14:BD:DA:D4:3C:8A:92:95:0F:F8:3F:97:45:C6:F3:03:AE:F8:9B:E0:7F:6E:FD:5F:0B:07"

// testNow is apitest's clock.
var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	caKey    *ecdsa.PrivateKey
)

func keys(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

// certSpec describes a test certificate.
type certSpec struct {
	notBefore, notAfter time.Time
	rsa                 bool // an RSA 2048 key (else ECDSA P-256)
	issued              bool // signed by a test CA (else self-signed)
	padding             int  // bytes of an extra, non-critical extension, to make it large
}

// validSpec is valid a year either side of testNow.
func validSpec() certSpec {
	return certSpec{notBefore: testNow.AddDate(-1, 0, 0), notAfter: testNow.AddDate(1, 0, 0)}
}

var caCert = struct {
	once sync.Once
	cert *x509.Certificate
	pem  string
}{}

// ca returns the test CA's certificate.
func ca(tb testing.TB) (*x509.Certificate, string) {
	tb.Helper()
	keys(tb)
	caCert.once.Do(func() {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA", Organization: []string{"Convrs Tests"}},
			NotBefore: testNow.AddDate(-5, 0, 0), NotAfter: testNow.AddDate(5, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		caCert.cert, _ = x509.ParseCertificate(der)
		caCert.pem = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	})
	return caCert.cert, caCert.pem
}

// mustCert makes a certificate for idp.example.com and returns its PEM and DER.
func mustCert(tb testing.TB, s certSpec) (string, []byte) {
	tb.Helper()
	keys(tb)
	var pub crypto.PublicKey = &ecKey.PublicKey
	if s.rsa {
		pub = &rsaKey.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "idp.example.com", Organization: []string{"Example IdP"}},
		NotBefore:    s.notBefore, NotAfter: s.notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if s.padding > 0 {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: make([]byte, s.padding)}}
	}
	parent, signer := tmpl, crypto.Signer(ecKey)
	if s.rsa {
		signer = rsaKey
	}
	if s.issued {
		parent, _ = ca(tb)
		signer = caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), der
}

// certPEM is mustCert's PEM.
func certPEM(tb testing.TB, s certSpec) string {
	tb.Helper()
	p, _ := mustCert(tb, s)
	return p
}

// keyPEMs returns the test keys as PEM, by encoding.
func keyPEMs(tb testing.TB) map[string]string {
	tb.Helper()
	keys(tb)
	pkcs8RSA, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		tb.Fatal(err)
	}
	pkcs8EC, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		tb.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		tb.Fatal(err)
	}
	enc := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	return map[string]string{
		"RSA PKCS#1":                enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)),
		"RSA PKCS#8":                enc("PRIVATE KEY", pkcs8RSA),
		"EC SEC 1":                  enc("EC PRIVATE KEY", sec1),
		"EC PKCS#8":                 enc("PRIVATE KEY", pkcs8EC),
		"PKCS#8 DER as CERTIFICATE": enc("CERTIFICATE", pkcs8EC),
	}
}

// csrPEM returns a certificate signing request for idp.example.com.
func csrPEM(tb testing.TB) string {
	tb.Helper()
	keys(tb)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "idp.example.com"}}, ecKey)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// publicKeyPEM returns the ECDSA test key's public half.
func publicKeyPEM(tb testing.TB) string {
	tb.Helper()
	keys(tb)
	der, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// base64Body returns the lines between a PEM's BEGIN and END lines, joined.
func base64Body(p string) string {
	lines := strings.Split(strings.TrimSpace(p), "\n")
	return strings.Join(lines[1:len(lines)-1], "")
}

// fingerprintOf is the colon-separated upper-case SHA-256 of der.
func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
