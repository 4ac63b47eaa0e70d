package sso_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/convrs/admin/pkg/settings/sso"
)

// Every kind of paste the parser meets, with the message it gets ("" when accepted).
func TestParseCertificate(t *testing.T) {
	t.Parallel()
	valid, validDER := mustCert(t, validSpec())
	rsaSpec := validSpec()
	rsaSpec.rsa = true
	issuedSpec := validSpec()
	issuedSpec.issued = true
	issued := certPEM(t, issuedSpec)
	_, caPEM := ca(t)
	bigSpec := validSpec()
	bigSpec.padding = 9000
	bigCert := certPEM(t, bigSpec)
	noise := make([]byte, 300)
	_, _ = rand.Read(noise)
	keysPEM := keyPEMs(t)

	const (
		chain      = "holds 2 certificates (a chain?); paste only the identity provider's signing certificate, one -----BEGIN CERTIFICATE----- block"
		before     = "has text before -----BEGIN CERTIFICATE-----; paste only the certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----"
		after      = "has text after -----END CERTIFICATE-----; paste only the certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----"
		notX509    = "is not a valid X.509 certificate (the data between the BEGIN and END lines does not parse); paste the certificate again, whole"
		badBase64  = "is not valid base64 between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----; paste the certificate again, whole"
		noHeaders  = "lacks the -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines; paste the whole PEM certificate, those lines included"
		incomplete = "is incomplete: the -----END CERTIFICATE----- line is missing"
	)
	tests := []struct {
		name, text, want string
	}{
		{"ECDSA", valid, ""},
		{"RSA 2048", certPEM(t, rsaSpec), ""},
		{"issued by a CA", issued, ""},
		{"CRLF line ends", strings.ReplaceAll(valid, "\n", "\r\n"), ""},
		{"CR line ends", strings.ReplaceAll(valid, "\n", "\r"), ""},
		{"indented lines", strings.ReplaceAll(valid, "\n", "\n    "), ""},
		{"tabs and trailing spaces", strings.ReplaceAll(valid, "\n", " \t\n\t"), ""},
		{"spaces inside lines", strings.ReplaceAll(valid, "M", " M\t"), ""},
		{"blank lines inside", strings.Replace(valid, "-----\n", "-----\n\n", 1), ""},
		{"one long base64 line", "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(validDER) + "\n-----END CERTIFICATE-----", ""},
		{"chain of two", issued + caPEM, chain},
		{"chain with blank line between", valid + "\n\n" + caPEM, chain},
		{"RSA PKCS#1 key", keysPEM["RSA PKCS#1"], sso.MsgPrivateKey},
		{"RSA PKCS#8 key", keysPEM["RSA PKCS#8"], sso.MsgPrivateKey},
		{"EC SEC 1 key", keysPEM["EC SEC 1"], sso.MsgPrivateKey},
		{"EC PKCS#8 key", keysPEM["EC PKCS#8"], sso.MsgPrivateKey},
		{"key labelled CERTIFICATE", keysPEM["PKCS#8 DER as CERTIFICATE"], sso.MsgPrivateKey},
		{"certificate then key", valid + keysPEM["RSA PKCS#1"], sso.MsgPrivateKey},
		{"key then certificate", keysPEM["EC SEC 1"] + valid, sso.MsgPrivateKey},
		{"encrypted key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----", sso.MsgPrivateKey},
		{"OpenSSH key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----", sso.MsgPrivateKey},
		{"key base64 without PEM lines", base64Body(keysPEM["RSA PKCS#8"]), sso.MsgPrivateKey},
		{"key with broken BEGIN line", "-----BEGIN PRIVATE KEY\nMIIEvQ\n", sso.MsgPrivateKey},
		{"CSR", csrPEM(t), "a certificate signing request (CSR) was pasted; paste the identity provider's signing certificate (BEGIN CERTIFICATE)"},
		{"public key", publicKeyPEM(t), "a public key was pasted; paste the identity provider's whole certificate (BEGIN CERTIFICATE), not just its key"},
		{"other PEM type", strings.ReplaceAll(valid, "CERTIFICATE", "TRUSTED CERTIFICATE"), "is a PEM block of type TRUSTED CERTIFICATE; paste the identity provider's signing certificate (BEGIN CERTIFICATE)"},
		{"odd PEM type", strings.ReplaceAll(valid, "CERTIFICATE", "x<script>"), "is a PEM block that is not a certificate; paste the identity provider's signing certificate (BEGIN CERTIFICATE)"},
		{"garbage", "hello, this is my certificate", sso.MsgNotPEM},
		{"random bytes", string(noise), sso.MsgNotPEM},
		{"base64 of noise", base64.StdEncoding.EncodeToString(noise), sso.MsgNotPEM},
		{"certificate base64 without PEM lines", base64Body(valid), noHeaders},
		{"certificate base64 in lines without PEM lines", strings.Split(strings.Split(valid, "-----\n")[1], "\n-----")[0], noHeaders},
		{"missing BEGIN", strings.Split(valid, "-----\n")[1] + "-----", "lacks the -----BEGIN CERTIFICATE----- line; paste the whole PEM certificate"},
		{"text before BEGIN on its line", "cert: " + valid, before},
		{"trailing text", valid + "thanks!", after},
		{"trailing END line twice", valid + "-----END CERTIFICATE-----", after},
		{"leading text", "Here it is:\n" + valid, before},
		{"leading BOM", "\ufeff" + valid, before},
		{"missing END", strings.Split(valid, "-----END")[0], incomplete},
		{"wrong END", strings.Replace(valid, "END CERTIFICATE", "END PUBLIC KEY", 1), "must end with -----END CERTIFICATE-----, the line that matches -----BEGIN CERTIFICATE-----"},
		{"PEM headers", strings.Replace(valid, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1), "has PEM headers (such as Proc-Type); paste the certificate without headers, as the identity provider shows it"},
		{"empty block", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----", "is empty between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----"},
		{"bad base64", strings.Replace(valid, "M", "*", 2), badBase64},
		{"truncated", strings.Replace(valid, strings.Split(valid, "\n")[5]+"\n", "", 1), notX509},
		{"base64 of noise in PEM lines", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: noise})), notX509},
		{"certificate with trailing DER", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(validDER, 0, 0)})), notX509},
		{"DER over 8192 bytes", bigCert, "holds a certificate of "},
		{"over 16384 characters", strings.Replace(valid, "\n", strings.Repeat(" ", 16384)+"\n", 1), "must be at most 16384 characters; paste only the identity provider's signing certificate"},
		{"16384 multi-byte characters", strings.Repeat("é", 16384), sso.MsgNotPEM},
		{"16385 multi-byte characters", strings.Repeat("é", 16385), "must be at most 16384 characters; paste only the identity provider's signing certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cert, msg := sso.ParseCertificate(sso.TrimCertificate(tc.text))
			switch {
			case tc.want == "" && msg != "":
				t.Fatalf("got %q, want the certificate accepted", msg)
			case tc.want == "":
				if cert == nil || cert.Subject.CommonName != "idp.example.com" {
					t.Errorf("got certificate %v, want idp.example.com's", cert)
				}
			case !strings.HasPrefix(msg, tc.want):
				t.Errorf("got %q, want %q", msg, tc.want)
			case cert != nil:
				t.Errorf("got a certificate with the refusal %q", msg)
			}
		})
	}
	if _, msg := sso.ParseCertificate(bigCert); !strings.Contains(msg, "more than 8192") || len(bigCert) > sso.MaxCertificateChars {
		t.Errorf("the large certificate (%d characters) must pass the text limit and fail the DER limit: %q", len(bigCert), msg)
	}
}

// No refusal quotes what was pasted: a private key must never be echoed.
func TestRefusalsNeverQuoteTheText(t *testing.T) {
	t.Parallel()
	for name, k := range keyPEMs(t) {
		_, msg := sso.ParseCertificate(k)
		for _, line := range strings.Split(k, "\n")[1:3] {
			if strings.Contains(msg, line) {
				t.Errorf("%s: the message %q quotes the key", name, msg)
			}
		}
	}
}

func TestNormalizePEM(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a\r\nb\rc\nd":  "a\nb\nc\nd",
		"  a \t\n\tb  ": "a\nb",
		"ab":            "ab",
	} {
		if got := sso.NormalizePEM(in); got != want {
			t.Errorf("NormalizePEM(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseCertificate: the parser never panics, refuses with a message, and whatever it
// accepts is exactly one PEM CERTIFICATE block (as encoding/pem reads it) holding exactly
// one X.509 certificate, with nothing but white space around it.
func FuzzParseCertificate(f *testing.F) {
	valid := certPEM(f, validSpec())
	_, caPEM := ca(f)
	f.Add(valid)
	f.Add(samplePEM)
	f.Add(strings.ReplaceAll(valid, "\n", "\r\n"))
	f.Add(valid + caPEM)
	f.Add(valid + "junk")
	f.Add("junk\n" + valid)
	f.Add(keyPEMs(f)["EC SEC 1"])
	f.Add(csrPEM(f))
	f.Add(base64Body(valid))
	f.Add("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----")
	f.Add("-----BEGIN CERTIFICATE-----\nProc-Type: 4\n\nAAAA\n-----END CERTIFICATE-----")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		text = sso.TrimCertificate(text)
		cert, msg := sso.ParseCertificate(text)
		if (cert == nil) == (msg == "") {
			t.Fatalf("got certificate %v with message %q: want exactly one of them", cert != nil, msg)
		}
		if cert == nil {
			return
		}
		block, rest := pem.Decode([]byte(sso.NormalizePEM(text)))
		if block == nil || block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			t.Fatalf("accepted %q, which is not one PEM CERTIFICATE block", text)
		}
		if strings.Trim(string(rest), " \t\r\n") != "" {
			t.Fatalf("accepted %q, which has more after the block: %q", text, rest)
		}
		again, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !again.Equal(cert) {
			t.Fatalf("accepted %q, whose block does not parse to the same certificate: %v", text, err)
		}
		if len(text) > sso.MaxCertificateChars || len(block.Bytes) > sso.MaxCertificateDER {
			t.Fatalf("accepted %d characters (%d DER bytes), over the limits", len(text), len(block.Bytes))
		}
	})
}

// Parsing and checking a typical certificate: what every write does once and every read
// of a changed certificate does once (the whole validation of the document), beside the
// floor, a bare pem.Decode and x509.ParseCertificate of the same text.
func BenchmarkParseCertificate(b *testing.B) {
	rsaSpec := validSpec()
	rsaSpec.rsa = true
	issuedSpec := validSpec()
	issuedSpec.rsa, issuedSpec.issued = true, true
	for _, bc := range []struct {
		name, pem string
	}{
		{"RSA2048", certPEM(b, rsaSpec)},
		{"RSA2048CRLF", strings.ReplaceAll(certPEM(b, issuedSpec), "\n", "\r\n")},
		{"ECDSAP256", samplePEM},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.pem)))
			for b.Loop() {
				s := sso.Defaults()
				s.SAML.Certificate = sso.TrimCertificate(bc.pem)
				if err := s.ValidateAt(testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The floor: encoding/pem and crypto/x509 alone on the same text.
		b.Run(bc.name+"/bare", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.pem)))
			for b.Loop() {
				blk, _ := pem.Decode([]byte(bc.pem))
				if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The 16 KiB worst case: the largest text the parser reads before it refuses.
func BenchmarkParseCertificateWorstCase(b *testing.B) {
	text := "-----BEGIN CERTIFICATE-----\n" + strings.Repeat(strings.Repeat("A", 63)+"\n", 16000/64) + "-----END CERTIFICATE-----"
	b.ReportAllocs()
	for b.Loop() {
		if _, msg := sso.ParseCertificate(text); msg == "" {
			b.Fatal("accepted")
		}
	}
}

// FuzzIsPrivateKey: every DER that crypto/x509 reads as a private key (PKCS #8, PKCS #1,
// SEC 1) has the shape isPrivateKey refuses, so no key parsing is needed to refuse a key;
// and no certificate has it.
func FuzzIsPrivateKey(f *testing.F) {
	for _, p := range keyPEMs(f) {
		b, _ := pem.Decode([]byte(p))
		f.Add(b.Bytes)
	}
	for _, p := range []string{certPEM(f, validSpec()), samplePEM, csrPEM(f)} {
		b, _ := pem.Decode([]byte(p))
		f.Add(b.Bytes)
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		_, e1 := x509.ParsePKCS8PrivateKey(der)
		_, e2 := x509.ParsePKCS1PrivateKey(der)
		_, e3 := x509.ParseECPrivateKey(der)
		if (e1 == nil || e2 == nil || e3 == nil) && !sso.IsPrivateKey(der) {
			t.Fatalf("crypto/x509 reads %x as a private key, isPrivateKey does not", der)
		}
		if _, err := x509.ParseCertificate(der); err == nil && sso.IsPrivateKey(der) {
			t.Fatalf("a certificate has the shape of a private key: %x", der)
		}
	})
}
