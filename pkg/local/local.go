// Package local is the one list of the product's functions (Functions) and the embedded
// adapters that run them all in one process: the local dev server (cmd/local), the API
// tests (package apitest) and the conformance tests use it. Adding a function means
// adding it here and a functions/<name>/ folder; nothing else lists functions.
package local

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/agentsfn"
	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/audit"
	"github.com/convrs/admin/pkg/auditfn"
	"github.com/convrs/admin/pkg/bolt"
	"github.com/convrs/admin/pkg/businessunitsfn"
	"github.com/convrs/admin/pkg/chatsfn"
	"github.com/convrs/admin/pkg/devkeys"
	"github.com/convrs/admin/pkg/dirblob"
	"github.com/convrs/admin/pkg/discovery"
	"github.com/convrs/admin/pkg/filesecrets"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/membus"
	"github.com/convrs/admin/pkg/orgsfn"
	"github.com/convrs/admin/pkg/outbox"
	"github.com/convrs/admin/pkg/roles"
	"github.com/convrs/admin/pkg/rolesfn"
	"github.com/convrs/admin/pkg/settings/chathandling"
	"github.com/convrs/admin/pkg/settings/dashboard"
	"github.com/convrs/admin/pkg/settings/dataprocessors"
	"github.com/convrs/admin/pkg/settings/general"
	"github.com/convrs/admin/pkg/settings/locale"
	"github.com/convrs/admin/pkg/settings/nativeapp"
	"github.com/convrs/admin/pkg/settings/officehours"
	"github.com/convrs/admin/pkg/settings/passwordpolicy"
	"github.com/convrs/admin/pkg/settings/reports"
	"github.com/convrs/admin/pkg/settings/security"
	"github.com/convrs/admin/pkg/settings/sso"
	"github.com/convrs/admin/pkg/signinfn"
	"github.com/convrs/admin/pkg/tagsfn"
	"github.com/convrs/admin/pkg/webchatfn"
)

// Functions lists every function, in template order.
var Functions = []app.Function{
	general.Function,
	officehours.Function,
	chathandling.Function,
	passwordpolicy.Function,
	reports.Function,
	sso.Function,
	dataprocessors.Function,
	nativeapp.Function,
	security.Function,
	locale.Function,
	dashboard.Function,
	webchatfn.SecretFunction,
	webchatfn.IdentifyFunction,
	chatsfn.EventsFunction,
	chatsfn.AutoCloseFunction,
	chatsfn.QueueMoveFunction,
	chatsfn.ReportFunction,
	chatsfn.ReadFunction,
	rolesfn.Function,
	businessunitsfn.Function,
	tagsfn.Function,
	agentsfn.Function,
	signinfn.Function,
	orgsfn.Function,
	auditfn.Function,
	discovery.Function,
}

// MountAll mounts the routes of every function on one API.
func MountAll(api *httpx.API, d app.Deps) {
	if d.Roles != nil {
		api.SetRoles(roles.Resolver{Store: d.Roles})
	}
	if d.Orgs != nil {
		api.SetOrgs(d.Orgs)
	}
	for _, f := range Functions {
		if f.HTTP != nil {
			f.HTTP(api, d)
		}
	}
}

// MailFrom is the sender of the email the local server writes to its outbox.
const MailFrom = "Convrs <reports@convrs.local>"

// Embedded opens the embedded adapters on the data folder dir (created 0700): settings
// and audit, WebChat key-set revisions, chats, business units, tags, the organisation
// tree and the sign-in sessions in dir/convrs.db (bbolt), logos under dir/blobs, WebChat key sets under
// dir/secrets (files 0600), email in dir/outbox (.eml files, 0600), the audit cursor key
// in dir/audit-cursor-key (made on first use, 0600); published events are kept in memory
// (membus). Tokens are signed with the dev key in dir (devkeys: read, or made, on first
// use), with issuer devkeys.DefaultIssuer (the local server's default origin; cmd/local
// sets the one it listens on) and audience devkeys.Audience. The clock is time.Now.
// Close the returned store when done. Errors name the file that could not be opened.
func Embedded(dir string) (app.Deps, *bolt.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return app.Deps{}, nil, fmt.Errorf("data folder: %w", err)
	}
	key, err := loadOrCreateKey(filepath.Join(dir, "audit-cursor-key"))
	if err != nil {
		return app.Deps{}, nil, err
	}
	cursors, err := audit.NewCursors(key)
	if err != nil {
		return app.Deps{}, nil, err
	}
	store, err := bolt.Open(filepath.Join(dir, "convrs.db"))
	if err != nil {
		return app.Deps{}, nil, err
	}
	blobs, err := dirblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	keySets, err := filesecrets.New(filepath.Join(dir, "secrets"))
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	chatStore, err := store.Chats()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	stickyStore, err := store.Sticky()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	roleStore, err := store.Roles()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	agentStore, err := store.Agents()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	mailer, err := outbox.New(filepath.Join(dir, "outbox"))
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	units, err := store.BusinessUnits()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	tagStore, err := store.Tags()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	orgStore, err := store.Orgs()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	sessionStore, err := store.Sessions()
	if err != nil {
		_ = store.Close()
		return app.Deps{}, nil, err
	}
	return app.Deps{Settings: store, Blobs: blobs, Cursors: cursors, Secrets: keySets, Revisions: store,
		Chats: chatStore, Roles: roleStore, Orgs: orgStore, Sticky: stickyStore, BusinessUnits: units, Tags: tagStore, Agents: agentStore,
		Sessions: sessionStore, Bus: membus.New(0), Mail: mailer, MailFrom: MailFrom, Now: time.Now,
		Signer: newDevSigner(dir), Issuer: devkeys.DefaultIssuer, Audience: devkeys.Audience}, store, nil
}

// loadOrCreateKey reads a 32-byte secret kept hex-encoded in path, creating it (0600) on
// first use. Two processes starting at once agree on one key: the file is linked into
// place, and the loser reads the winner's.
func loadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(key) < audit.MinCursorKeyLen {
			return nil, fmt.Errorf("key file %s is corrupt; delete it to make a new one", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key file: %w", err)
	}
	key := make([]byte, audit.MinCursorKeyLen)
	_, _ = rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		_ = tmp.Close()
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return loadOrCreateKey(path)
		}
		return nil, fmt.Errorf("key file: %w", err)
	}
	return key, nil
}

// WidgetPaths lists the paths of the widget functions' routes (public routes the chat
// widget calls from any origin), for the local CORS middleware.
func WidgetPaths() []string {
	var out []string
	for _, f := range Functions {
		if !f.Widget {
			continue
		}
		api := httpx.New(nil, nil)
		if f.HTTP == nil {
			continue
		}
		f.HTTP(api, app.Deps{Now: time.Now})
		for _, r := range api.Routes() {
			out = append(out, r.Pattern)
		}
	}
	return out
}
