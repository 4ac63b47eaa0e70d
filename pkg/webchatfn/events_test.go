package webchatfn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/apitest"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/webchat"
	"github.com/convrs/admin/pkg/webchatfn"
)

// The key the identify samples' tokens are signed with (events/webchat-identify/). It
// exists only in the samples and in the replay's seed.
const (
	sampleKID    = "wk_7mq2xk4d9bv3np5a"
	sampleSecret = "EXAMPLE-ONLY-not-a-real-secret-0123456789ab"
)

// seedSampleKey gives org demo the samples' key, as a generate would (revision 1).
func seedSampleKey(t testing.TB, d app.Deps) {
	t.Helper()
	ctx := context.Background()
	now := apitest.EventEpoch
	rev, err := d.Revisions.Revision(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := d.Revisions.Claim(ctx, "demo", rev, now, now.Add(webchat.Lease))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := webchat.Document{}.Next(rev.Committed, webchat.Set{Current: &webchat.StoredKey{KID: sampleKID, Secret: []byte(sampleSecret), CreatedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(doc)
	if err := d.Secrets.Put(ctx, webchat.SecretName("demo"), data); err != nil {
		t.Fatal(err)
	}
	if err := d.Revisions.Commit(ctx, "demo", claimed, audit.Entry{ID: audit.NewID(now), OrgID: "demo", At: now, Actor: "seed",
		Area: webchat.Area, Action: "generate"}); err != nil {
		t.Fatal(err)
	}
}

// TestSecretEvents replays events/webchat-secret/ through the admin function's Lambda
// entry point: the lifecycle a tour of the tab goes through.
func TestSecretEvents(t *testing.T) {
	t.Parallel()
	var issued struct{ KID, Secret string }
	apitest.ReplayEvents(t, webchatfn.SecretFunction, nil,
		apitest.EventCase{File: "status-none.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"current": nil, "previous": nil})
		}},
		apitest.EventCase{File: "generate.json", Status: http.StatusCreated, Check: func(t *testing.T, r *apitest.EventRun) {
			if err := json.Unmarshal(r.Body, &issued); err != nil || !strings.HasPrefix(issued.KID, "wk_") || len(issued.Secret) != 43 {
				t.Errorf("generate: %s", r.Body)
			}
			if cc := apitest.Header(r.Resp, "Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		}},
		apitest.EventCase{File: "status.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			m := apitest.MustJSON(t, r.Body).(map[string]any)
			if cur, _ := m["current"].(map[string]any); cur == nil || cur["kid"] != issued.KID || m["previous"] != nil {
				t.Errorf("status after generate: %s", r.Body)
			}
			if strings.Contains(string(r.Body), issued.Secret) {
				t.Error("the status shows the secret")
			}
		}},
		apitest.EventCase{File: "rotate.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			m := apitest.MustJSON(t, r.Body).(map[string]any)
			prev, _ := m["previous"].(map[string]any)
			if prev == nil || prev["kid"] != issued.KID || m["kid"] == issued.KID || len(m["secret"].(string)) != 43 {
				t.Errorf("rotate: %s", r.Body)
			}
			created, _ := time.Parse(time.RFC3339, m["createdAt"].(string))
			expires, _ := time.Parse(time.RFC3339, prev["expiresAt"].(string))
			if expires.Sub(created) != webchat.GracePeriod {
				t.Errorf("the previous key expires %v after the rotation, want %v", expires.Sub(created), webchat.GracePeriod)
			}
		}},
		apitest.EventCase{File: "verify-unknown-key.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"valid": false, "reason": "unknown_key",
				"claims": map[string]any{"sub": "user-42", "name": "Ada Lovelace", "email": "ada@example.com", "iat": 1772955000, "exp": 4102444800}})
		}},
		apitest.EventCase{File: "revoke-previous.json", Status: http.StatusNoContent},
		apitest.EventCase{File: "integration-example.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			m := apitest.MustJSON(t, r.Body).(map[string]any)
			if m["orgId"] != "demo" || m["kid"] == issued.KID || !strings.HasPrefix(m["kid"].(string), "wk_") {
				t.Errorf("integration example after rotation: orgId %v, kid %v", m["orgId"], m["kid"])
			}
		}},
	)
}

// TestIdentifyEvents replays events/webchat-identify/ through the public function's
// Lambda entry point, with the samples' key seeded.
func TestIdentifyEvents(t *testing.T) {
	t.Parallel()
	apitest.ReplayEvents(t, webchatfn.IdentifyFunction, func(t *testing.T, d app.Deps) { seedSampleKey(t, d) },
		apitest.EventCase{File: "identify.json", Status: http.StatusOK, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"userId": "user-42", "name": "Ada Lovelace", "email": "ada@example.com"})
		}},
		apitest.EventCase{File: "identify-expired.json", Status: http.StatusUnauthorized, Check: func(t *testing.T, r *apitest.EventRun) {
			apitest.WantFields(t, apitest.MustJSON(t, r.Body), map[string]any{"reason": "expired", "status": 401})
		}},
	)
}
