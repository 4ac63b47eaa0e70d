package optimistic

import (
	"context"
	"testing"
	"time"
)

func TestMatches(t *testing.T) {
	t.Parallel()
	if ETag(12) != `"12"` {
		t.Errorf("ETag(12) = %s", ETag(12))
	}
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{`"3"`, true}, {`"2", "3"`, true}, {` "3" `, true}, {`*`, true}, {`"1",*`, true},
		{`"2"`, false}, {`3`, false}, {`W/"3"`, false}, {`"33"`, false}, {`""`, false}, {`,`, false},
	} {
		if got := Matches(tc.header, 3); got != tc.want {
			t.Errorf("Matches(%q, 3) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestRetryIsBounded(t *testing.T) {
	t.Parallel()
	var r Retry
	start := time.Now()
	tries := 1
	for {
		again, err := r.Again(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !again {
			break
		}
		tries++
	}
	if tries != MaxAttempts {
		t.Errorf("%d tries, want %d", tries, MaxAttempts)
	}
	if d := time.Since(start); d > Budget+time.Second {
		t.Errorf("the retries took %v, beyond the budget %v", d, Budget)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var r2 Retry
	if again, err := r2.Again(ctx); again || err == nil {
		t.Errorf("a cancelled context: again %v, err %v", again, err)
	}
}
