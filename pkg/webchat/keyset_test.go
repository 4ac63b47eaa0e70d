package webchat

import (
	"testing"
	"time"
)

func TestDocumentRevisions(t *testing.T) {
	t.Parallel()
	k1 := &StoredKey{KID: "wk_1", Secret: []byte("s1"), CreatedAt: time.Unix(1, 0)}
	k2 := &StoredKey{KID: "wk_2", Secret: []byte("s2"), CreatedAt: time.Unix(2, 0)}
	var empty Document
	if s, ok := empty.At(0); !ok || s.Current != nil {
		t.Fatalf("revision 0 of the empty document: %+v %v", s, ok)
	}
	d1, err := empty.Next(0, Set{Current: k1})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := d1.Next(1, Set{Current: k2, Previous: k1})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := d2.At(1); !ok || s.Current != k1 || s.Previous != nil {
		t.Errorf("d2 at 1: %+v %v, want the prior set", s, ok)
	}
	if s, ok := d2.At(2); !ok || s.Current != k2 {
		t.Errorf("d2 at 2: %+v %v", s, ok)
	}
	// Revision 0 is always the empty set: an org whose first generate was abandoned
	// after writing the document still has no keys.
	if s, ok := d2.At(0); !ok || s.Current != nil {
		t.Errorf("d2 at 0: %+v %v, want the empty set", s, ok)
	}
	d3, _ := d2.Next(2, Set{Current: k2})
	if _, ok := d3.At(1); ok {
		t.Errorf("d3 holds revision 1; it keeps only the set it replaced")
	}
	if _, err := d3.Next(1, Set{}); err == nil {
		t.Errorf("Next from a revision the document does not hold: accepted")
	}
}
