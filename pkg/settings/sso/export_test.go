package sso

// Unexported parts the external tests use.
var (
	ParseCertificate = parseCertificate
	NormalizePEM     = normalizePEM
	MsgPrivateKey    = msgPrivateKey
	MsgNotPEM        = msgNotPEM
	IsPrivateKey     = isPrivateKey
)
