package settings

import (
	"bytes"
	"slices"
	"sync"
)

// maxCachedReps bounds the representation cache of one area (entries, one per
// organisation): about 1,024 x a few hundred bytes.
const maxCachedReps = 1024

// repCache keeps, per organisation, the last representation a GET built and the records
// of the path it was built from. A representation is a pure function of those records
// (each one's document bytes, locked fields, version, updatedAt and updatedBy), so an
// entry is reused only when the records read now are the same in every part: a read still
// happens on every GET, and what is saved is resolving the document and encoding the
// answer. It is safe for concurrent use.
type repCache struct {
	mu      sync.Mutex
	entries map[string]repEntry
}

type repEntry struct {
	recs []Record
	rep  []byte
	etag []string // the ETag header value, made once (never written in place)
}

func sameRecords(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.OrgID != y.OrgID || x.Version != y.Version || !x.UpdatedAt.Equal(y.UpdatedAt) || x.UpdatedBy != y.UpdatedBy ||
			!bytes.Equal(x.Data, y.Data) || !slices.Equal(x.Locked, y.Locked) {
			return false
		}
	}
	return true
}

func (c *repCache) get(org string, recs []Record) (rep []byte, etag []string, ok bool) {
	c.mu.Lock()
	e, ok := c.entries[org]
	c.mu.Unlock()
	if !ok || !sameRecords(e.recs, recs) {
		return nil, nil, false
	}
	return e.rep, e.etag, true
}

func (c *repCache) put(org string, recs []Record, rep []byte, tag string) []string {
	etag := []string{tag}
	kept := make([]Record, len(recs))
	for i, r := range recs {
		r.Data, r.Locked = bytes.Clone(r.Data), slices.Clone(r.Locked)
		kept[i] = r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]repEntry)
	}
	if len(c.entries) >= maxCachedReps {
		// Drop about a quarter, chosen by map order (random enough for a cache).
		n := 0
		for k := range c.entries {
			delete(c.entries, k)
			if n++; n >= maxCachedReps/4 {
				break
			}
		}
	}
	c.entries[org] = repEntry{recs: kept, rep: rep, etag: etag}
	return etag
}
