// Package general is the general settings area: the organisation's display name, rules
// for outbound chats, and the organisation logo (uploaded as raw image bytes, validated by
// package logo and kept in a blob store: S3 in AWS, a folder locally).
package general

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/convrs/admin/pkg/app"
	"github.com/convrs/admin/pkg/auth"
	"github.com/convrs/admin/pkg/blob"
	"github.com/convrs/admin/pkg/freetext"
	"github.com/convrs/admin/pkg/httpx"
	"github.com/convrs/admin/pkg/logo"
	"github.com/convrs/admin/pkg/problem"
	"github.com/convrs/admin/pkg/settings"
)

// AreaName is the URL segment and audit area.
const AreaName = "general"

// Settings is the general document.
type Settings struct {
	Name     string   `json:"name"`
	Outbound Outbound `json:"outbound"`
	// Logo is server-owned: set by the logo routes, ignored when a client sends it.
	Logo *Logo `json:"logo"`
}

// Outbound holds the rules for chats an agent starts.
type Outbound struct {
	RequireEmailAndName bool `json:"requireEmailAndName"`
	RequireCRMLink      bool `json:"requireCrmLink"`
}

// Logo describes the stored organisation logo.
type Logo struct {
	URL         string    `json:"url"`
	ContentType string    `json:"contentType"`
	Size        int       `json:"size"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Defaults returns the settings of an organisation that never saved this area.
func Defaults() Settings { return Settings{} }

// Validate returns a problem.Invalid error listing every failing field. The name follows
// the free-text rule of package freetext (1-100 characters once trimmed).
func (s Settings) Validate() error {
	var f problem.Fields
	if msg := freetext.Problem(s.Name, 1, 100); msg != "" {
		f.Add("name", "%s", msg)
	}
	return f.Err()
}

// Area describes the area to the settings service.
var Area = settings.Area[Settings]{
	Name:     AreaName,
	Defaults: Defaults,
	ReadOnly: []string{"logo"},
	Prepare: func(stored Settings, next *Settings) {
		next.Name = freetext.Normalize(next.Name)
		next.Logo = stored.Logo
	},
}

// Function is the general Lambda function; its logos live in the LOGO_BUCKET bucket.
var Function = app.Function{Name: AreaName, Needs: app.Needs{Settings: []string{AreaName}, Logos: true, Roles: app.Read, Orgs: app.Read}, HTTP: func(api *httpx.API, d app.Deps) {
	Register(api, d.Settings, d.Blobs, d.Now)
}}

// Handler serves the area and its logo.
type Handler struct {
	svc   *settings.Service[Settings]
	blobs blob.Store
	now   func() time.Time
}

// Register serves the area's routes (admin only) with logos kept in blobs.
func Register(api *httpx.API, store settings.Store, blobs blob.Store, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	h := &Handler{svc: settings.NewService(Area, store, now), blobs: blobs, now: now}
	admin := auth.Permission(auth.PermSettingsManage)
	h.svc.Register(api, admin)
	const path = "/v1/orgs/{orgId}/settings/general/logo"
	api.Handle(http.MethodPut, path, admin, h.putLogo)
	api.Handle(http.MethodGet, path, admin, h.getLogo)
	api.Handle(http.MethodDelete, path, admin, h.deleteLogo)
	return h
}

// logoKey names the blob of a logo. Every upload gets a new random id, carried in the
// logo URL as ?v= (so clients and caches see a new URL too), and so a new key: a failed
// settings update never leaves the document pointing at the wrong bytes.
func logoKey(orgID string, l *Logo) string {
	_, id, _ := strings.Cut(l.URL, "?v=")
	return app.LogoKeyPrefix + orgID + "/logo/" + id
}

func newLogoID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Handler) putLogo(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	data, err := httpx.ReadBody(r, logo.MaxBytes, problem.TooLarge)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	info, err := logo.Inspect(ctx, data)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	l := &Logo{URL: "/v1/orgs/" + org + "/settings/general/logo?v=" + newLogoID(), ContentType: info.ContentType, Size: len(data),
		Width: info.Width, Height: info.Height, UpdatedAt: h.now().UTC().Truncate(time.Microsecond)}
	key := logoKey(org, l)
	if err := h.blobs.Put(ctx, key, info.ContentType, data); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var old *Logo
	cur, err := h.svc.UpdateOwned(ctx, org, httpx.IfMatch(r), "logo.upload", func(s Settings) (Settings, error) {
		old = s.Logo
		s.Logo = l
		return s, nil
	})
	if err != nil {
		h.removeBlob(ctx, key)
		httpx.WriteError(w, r, err)
		return
	}
	if old != nil {
		h.removeBlob(ctx, logoKey(org, old))
	}
	h.svc.Write(w, r, http.StatusOK, cur)
}

// Cache policies of the logo. A URL with the current ?v= names bytes that never change
// (every upload gets a new id), so a browser may keep them a year without asking again;
// any other URL must be revalidated (If-None-Match answers 304 without the bytes).
const (
	cacheVersioned   = "private, max-age=31536000, immutable"
	cacheUnversioned = "private, no-cache"
)

func (h *Handler) getLogo(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	cur, err := h.svc.Load(ctx, org)
	if err == nil && cur.Doc.Logo == nil {
		err = problem.New(problem.NotFound, "the organisation has no logo")
	}
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	_, id, _ := strings.Cut(cur.Doc.Logo.URL, "?v=")
	etag := `"logo-` + id + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	if v := r.URL.Query().Get("v"); v != "" && v == id {
		hdr.Set("Cache-Control", cacheVersioned)
	} else {
		hdr.Set("Cache-Control", cacheUnversioned)
	}
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	obj, err := h.blobs.Get(ctx, logoKey(org, cur.Doc.Logo))
	if err != nil {
		hdr.Del("ETag")
		hdr.Del("Cache-Control")
		httpx.WriteError(w, r, err)
		return
	}
	hdr.Set("Content-Type", obj.ContentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(obj.Data)
}

// noneMatch reports whether an If-None-Match list (every field line) holds etag or "*",
// with the weak comparison RFC 9110 prescribes for If-None-Match.
func noneMatch(lines []string, etag string) bool {
	for _, line := range lines {
		for t := range strings.SplitSeq(line, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
	}
	return false
}

func (h *Handler) deleteLogo(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), r.PathValue("orgId")
	var old *Logo
	_, err := h.svc.UpdateOwned(ctx, org, httpx.IfMatch(r), "logo.delete", func(s Settings) (Settings, error) {
		old = s.Logo
		s.Logo = nil
		return s, nil
	})
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if old != nil {
		h.removeBlob(ctx, logoKey(org, old))
	}
	w.WriteHeader(http.StatusNoContent)
}

// removeBlob deletes a logo blob that no document points at any more. A failure leaves
// only an orphaned object behind, so it is logged rather than failing the request.
func (h *Handler) removeBlob(ctx context.Context, key string) {
	if err := h.blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
		httpx.LogError(ctx, "orphaned logo blob not deleted", err)
	}
}
