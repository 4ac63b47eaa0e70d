package settings

import "testing"

func TestETagMatching(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{`"3"`, true}, {`"2", "3"`, true}, {`*`, true}, {`W/"3"`, false}, {`3`, false}, {`"4"`, false},
	}
	for _, tc := range tests {
		if got := ETagMatches(tc.header, ETag(3)); got != tc.want {
			t.Errorf("If-Match %s against \"3\": got %v, want %v", tc.header, got, tc.want)
		}
	}
}
