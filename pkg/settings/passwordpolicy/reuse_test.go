package passwordpolicy_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/convrs/admin/pkg/agents"
	"github.com/convrs/admin/pkg/agents/passwords"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/dynamo"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/orgs"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/settings"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
)

// cheapHash is an argon2id hash of password with 64 KiB of memory: verified as a stored
// hash of the default parameters is (its parameters travel with it), in far less time.
func cheapHash(t testing.TB, password string) string {
	t.Helper()
	h, err := passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// seedAgent stores agent id of org with the passwords used, newest first: the first is
// the current one, the others its history.
func seedAgent(t testing.TB, store agents.Store, org, id string, used ...string) {
	t.Helper()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	a := agents.New(id, id+"."+org+"@example.com", agents.Profile{Name: "Seeded " + id, Role: "agent", Language: "en",
		BusinessUnitIDs: []string{}}, at) // in no unit: units are not what the check reads
	var c agents.Credentials
	for i, p := range used {
		if i == 0 {
			c.PasswordHash = cheapHash(t, p)
		} else {
			c.History = append(c.History, cheapHash(t, p))
		}
	}
	entry := audit.Entry{ID: audit.NewID(at), OrgID: org, At: at, Actor: "seed", Area: agents.AuditArea, Action: "create",
		RequestID: "seed", Changes: []audit.Change{}}
	if err := store.Create(context.Background(), org, a, c, entry); err != nil {
		t.Fatal(err)
	}
}

// checkStoredReuse serves the password-policy Function (its own wiring: the History over
// Deps.Agents) on the adapters given and checks the reuse rule against passwords stored
// as hashes: an earlier or the current password is reported when preventReuse is on,
// never when it is off; a fresh one never; another organisation's agent is unknown.
func checkStoredReuse(t *testing.T, st settings.Store, ag agents.Store, ro roles.Store, tree orgs.Store) {
	t.Helper()
	seedAgent(t, ag, "acme", "agent_ana", "Winter-2026-Blue!", "Autumn-2025-Red!", "Summer-2025-Gold!")
	seedAgent(t, ag, "other", "agent_bo", "Spring-2026-Green!")
	seedAgent(t, ag, "acme", "agent_new") // invited, no password yet
	d := app.Deps{Settings: st, Agents: ag, Roles: ro, Orgs: tree, Now: func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }}
	if missing := passwordpolicy.Function.Needs.Missing(d); len(missing) > 0 {
		t.Fatalf("the Function's needs are not met: %v", missing)
	}
	api := httpx.New(adminAuthn{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	passwordpolicy.Function.HTTP(api, d)
	tests := []struct {
		preventReuse      bool
		password, agentID string
		status            int
		rules             string
	}{
		{true, "Winter-2026-Blue!", "agent_ana", 200, "reuse"},                      // the current password
		{true, "Autumn-2025-Red!", "agent_ana", 200, "reuse"},                       // earlier
		{true, "Summer-2025-Gold!", "agent_ana", 200, "reuse"},                      // the earliest
		{true, "Summer-2025-Gold", "agent_ana", 200, ""},                            // not quite: fresh
		{true, "Winter-2026-Teal!", "agent_ana", 200, ""},                           // fresh
		{true, "Spring-2026-Green!", "agent_ana", 200, ""},                          // another agent's
		{true, "Winter-2026-Blue!", "agent_new", 200, ""},                           // an agent without a password
		{true, "Winter-2026-Blue!", "agent_bo", 422, ""},                            // another organisation's agent
		{true, "Winter-2026-Blue!", "agent_nobody", 422, ""},                        // no such agent
		{false, "Winter-2026-Blue!", "agent_ana", 200, ""},                          // reuse allowed
		{false, "Autumn-2025-Red!", "agent_ana", 200, ""},                           // reuse allowed
		{false, "Winter-2026-Blue!", "agent_bo", 422, ""},                           // unknown all the same
		{false, "Winter-2026-Blue!", "agent_nobody", 422, ""},                       // unknown all the same
		{true, "Cr\u00e8me-Br\u00fbl\u00e9e-7!", "agent_ana", 200, ""},              // fresh, with accents
		{true, "Winter-2026-Blue!", "", 200, ""},                                    // no agent, no reuse rule
		{true, strings.Repeat("Winter-2026-Blue!", 15), "agent_ana", 200, "length"}, // 255 characters, fresh
	}
	for _, tc := range tests {
		if rec := call(api, http.MethodPut, path, "application/json", fmt.Sprintf(`{"minSpecial":1,"preventReuse":%v}`, tc.preventReuse)); rec.Code != 200 {
			t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
		}
		body := fmt.Sprintf(`{"password":%q,"agentId":%q}`, tc.password, tc.agentID)
		if tc.agentID == "" {
			body = fmt.Sprintf(`{"password":%q}`, tc.password)
		}
		rec := call(api, http.MethodPost, checkPath, "application/json", body)
		name := fmt.Sprintf("preventReuse %v, %s for %q", tc.preventReuse, tc.password, tc.agentID)
		if rec.Code != tc.status {
			t.Errorf("%s: got %d, want %d\n%s", name, rec.Code, tc.status, rec.Body)
			continue
		}
		if tc.status == 422 {
			if !strings.Contains(rec.Body.String(), `"errors":[{"field":"agentId","message":"no such agent"}]`) {
				t.Errorf("%s: got %s, want a 422 on agentId: no such agent", name, rec.Body)
			}
			continue
		}
		if res := result(t, rec.Body.Bytes()); rules(res) != tc.rules || res.OK != (tc.rules == "") {
			t.Errorf("%s: got %+v, want rules [%s]", name, res, tc.rules)
		}
	}
	// The password a user types may be composed differently from the one stored: the
	// comparison is of NFC forms, as sign-in's is.
	seedAgent(t, ag, "acme", "agent_cy", "Cr\u00e8me-Br\u00fbl\u00e9e-7!")
	rec := call(api, http.MethodPost, checkPath, "application/json", `{"password":"Cre\u0300me-Bru\u0302le\u0301e-7!","agentId":"agent_cy"}`)
	if res := result(t, rec.Body.Bytes()); rules(res) != "reuse" {
		t.Errorf("decomposed accents: got %+v, want reuse", res)
	}
}

// The reuse rule against passwords stored by the embedded adapter (bbolt).
func TestCheckReuseStoredBolt(t *testing.T) {
	t.Parallel()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "convrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ag, err := store.Agents()
	if err != nil {
		t.Fatal(err)
	}
	ro, err := store.Roles()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := store.Orgs()
	if err != nil {
		t.Fatal(err)
	}
	checkStoredReuse(t, store, ag, ro, tree)
}

// The reuse rule against passwords stored in DynamoDB (DynamoDB Local at
// AWS_ENDPOINT_URL_DYNAMODB, on a table of its own; skipped without it, except in CI).
func TestCheckReuseStoredDynamo(t *testing.T) {
	t.Parallel()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
			t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set, and with CI=true the DynamoDB tests must run: use make test")
		}
		t.Skip("AWS_ENDPOINT_URL_DYNAMODB is not set (DynamoDB Local)")
	}
	client := dynamodb.New(dynamodb.Options{
		Region:       cmp.Or(os.Getenv("AWS_REGION"), "us-east-1"),
		BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(cmp.Or(os.Getenv("AWS_ACCESS_KEY_ID"), "local"),
			cmp.Or(os.Getenv("AWS_SECRET_ACCESS_KEY"), "local"), os.Getenv("AWS_SESSION_TOKEN")),
	})
	var b [4]byte
	_, _ = rand.Read(b[:])
	table := "password-check-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	checkStoredReuse(t, dynamo.New(client, table), dynamo.NewAgents(client, table), dynamo.NewRoles(client, table), dynamo.NewOrgs(client, table))
}
