package webchat

import (
	"encoding/json"
	"fmt"
	"time"
)

// GracePeriod is how long the previous key stays valid after a rotation, so that
// customers' backends can switch to the new key without refusing a single user.
const GracePeriod = 48 * time.Hour

// StoredKey is one signing key as the key-set document keeps it.
type StoredKey struct {
	KID       string    `json:"kid"`
	Secret    []byte    `json:"secret"` // base64 in the JSON document
	CreatedAt time.Time `json:"createdAt"`
	// NotAfter ends a previous key's grace period (unset for the current key).
	NotAfter *time.Time `json:"notAfter,omitempty"`
}

// Set is an organisation's keys at one revision.
type Set struct {
	Current  *StoredKey `json:"current,omitempty"`
	Previous *StoredKey `json:"previous,omitempty"`
}

// Document is the value kept in the secret store for an organisation: the set at
// Revision and, as Prior, the set at the revision before it. A change writes the document
// (Revision = committed+1) before it commits the revision, so a reader that holds the
// committed revision still finds its set (as Prior) while a change is in progress or
// after one was abandoned half-way.
type Document struct {
	Revision int64  `json:"revision"`
	Set      Set    `json:"set"`
	Prior    *Prior `json:"prior,omitempty"`
}

// Prior is the set a document replaced.
type Prior struct {
	Revision int64 `json:"revision"`
	Set      Set   `json:"set"`
}

// At returns the set of revision rev held by d, and whether d holds it.
func (d Document) At(rev int64) (Set, bool) {
	switch {
	case d.Revision == rev:
		return d.Set, true
	case d.Prior != nil && d.Prior.Revision == rev:
		return d.Prior.Set, true
	case rev == 0:
		return Set{}, true // an org that never had keys has the empty set
	}
	return Set{}, false
}

// Next returns the document of revision rev+1 holding set, with the set of rev (which d
// must hold) as its Prior.
func (d Document) Next(rev int64, set Set) (Document, error) {
	cur, ok := d.At(rev)
	if !ok {
		return Document{}, fmt.Errorf("webchat: the key-set document (revision %d) does not hold the committed revision %d", d.Revision, rev)
	}
	return Document{Revision: rev + 1, Set: set, Prior: &Prior{Revision: rev, Set: cur}}, nil
}

// ParseDocument decodes a stored key-set document. Errors never quote the value.
func ParseDocument(data []byte) (Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return Document{}, fmt.Errorf("webchat: the key-set document is not readable (%d bytes)", len(data))
	}
	return d, nil
}
