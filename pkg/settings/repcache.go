package settings

import (
	"bytes"
	"sync"
	"time"
)

// maxCachedReps bounds the representation cache of one area (entries, one per
// organisation): about 1,024 x a few hundred bytes.
const maxCachedReps = 1024

// repCache keeps, per organisation, the last representation a GET built and what it was
// built from. A representation is a pure function of the stored record (the document's
// bytes, version, updatedAt and updatedBy), so an entry is reused only when the record
// read now is the same in every part: a read still happens on every GET, and what is saved
// is decoding the document and encoding the answer. It is safe for concurrent use.
type repCache struct {
	mu      sync.Mutex
	entries map[string]repEntry
}

type repEntry struct {
	data      []byte
	version   int64
	updatedAt time.Time
	updatedBy string
	rep       []byte
	etag      []string // the ETag header value, made once (never written in place)
}

func (c *repCache) get(org string, rec Record) (rep []byte, etag []string, ok bool) {
	c.mu.Lock()
	e, ok := c.entries[org]
	c.mu.Unlock()
	if !ok || e.version != rec.Version || !e.updatedAt.Equal(rec.UpdatedAt) || e.updatedBy != rec.UpdatedBy || !bytes.Equal(e.data, rec.Data) {
		return nil, nil, false
	}
	return e.rep, e.etag, true
}

func (c *repCache) put(org string, rec Record, rep []byte) []string {
	etag := []string{ETag(rec.Version)}
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
	c.entries[org] = repEntry{data: bytes.Clone(rec.Data), version: rec.Version, updatedAt: rec.UpdatedAt, updatedBy: rec.UpdatedBy, rep: rep, etag: etag}
	return etag
}
