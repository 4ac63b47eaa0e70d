package timezone_test

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/convrs/admin/pkg/timezone"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in, want, msg string
	}{
		{"zone", "Europe/London", "Europe/London", ""},
		{"default", "UTC", "UTC", ""},
		{"three levels", "America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", ""},
		{"lower case", "europe/london", "Europe/London", ""},
		{"upper case", "AMERICA/NEW_YORK", "America/New_York", ""},
		{"utc lower case", "utc", "UTC", ""},
		{"alias", "US/Eastern", "US/Eastern", ""},
		{"offset zone", "etc/gmt+5", "Etc/GMT+5", ""},
		{"trimmed", " \tAsia/Tokyo\n", "Asia/Tokyo", ""},
		{"empty", "", "", "required"},
		{"spaces", "   ", "", "required"},
		{"unknown", "Mars/Olympus_Mons", "", `unknown time zone "Mars/Olympus_Mons"`},
		{"the server's zone", "Local", "", `unknown time zone "Local"`},
		{"the server's zone file", "localtime", "", `unknown time zone "localtime"`},
		{"posix copy", "posix/Europe/London", "", `unknown time zone "posix/Europe/London"`},
		{"leap-second copy", "right/UTC", "", `unknown time zone "right/UTC"`},
		{"zoneinfo file", "zone.tab", "", `unknown time zone "zone.tab"`},
		{"path", "../../etc/passwd", "", `unknown time zone "../../etc/passwd"`},
		{"absolute path", "/usr/share/zoneinfo/UTC", "", `unknown time zone "/usr/share/zoneinfo/UTC"`},
		{"folder", "Europe", "", `unknown time zone "Europe"`},
		{"folder with slash", "Europe/", "", `unknown time zone "Europe/"`},
		{"space inside", "Europe/ London", "", `unknown time zone "Europe/ London"`},
		{"space for underscore", "America/New York", "", `unknown time zone "America/New York"`},
		{"offset", "+02:00", "", `unknown time zone "+02:00"`},
		{"abbreviation", "BST", "", `unknown time zone "BST"`},
		{"zero-width space", "Europe/London\u200b", "", `unknown time zone "Europe/London\u200b"`},
		{"byte order mark", "\ufeffUTC", "", `unknown time zone "\ufeffUTC"`},
		{"bidi override", "\u202eUTC", "", `unknown time zone "\u202eUTC"`},
		{"NUL", "UTC\x00", "", `unknown time zone "UTC\x00"`},
		{"Kelvin sign for k", "Asia/\u212Aolkata", "", `unknown time zone "Asia/\u212aolkata"`},
		{"full-width letters", "ＵＴＣ", "", `unknown time zone "\uff35\uff34\uff23"`},
		{"64 characters", strings.Repeat("a", 64), "", `unknown time zone "` + strings.Repeat("a", 64) + `"`},
		{"65 characters", strings.Repeat("a", 65), "", "must be at most 64 characters"},
		{"65 emoji", strings.Repeat("🕐", 65), "", "must be at most 64 characters"},
		{"huge", strings.Repeat("Europe/London", 1<<16), "", "must be at most 64 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, msg := timezone.Parse(c.in)
			if got != c.want || msg != c.msg {
				t.Errorf("Parse(%q) = %q, %q; want %q, %q", c.in, got, msg, c.want, c.msg)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"Europe/London", true}, {"UTC", true}, {"Etc/GMT+5", true},
		{"europe/london", false}, // Load takes only the spelling Parse returns
		{"", false}, {"Local", false}, {"localtime", false}, {"posix/Europe/London", false}, {"../UTC", false},
	} {
		l, ok := timezone.Load(c.name)
		if ok != c.ok {
			t.Errorf("Load(%q): ok %v, want %v", c.name, ok, c.ok)
		}
		if ok && l.String() != c.name {
			t.Errorf("Load(%q) = %s", c.name, l)
		}
	}
	a, _ := timezone.Load("Asia/Tokyo")
	b, _ := timezone.Load("Asia/Tokyo")
	if a != b {
		t.Error("Load does not keep loaded zones")
	}
}

// Every name loads, and Parse gives back each name, in any case.
func TestEveryNameLoads(t *testing.T) {
	t.Parallel()
	names := timezone.Names()
	if len(names) < 500 || !slices.IsSorted(names) {
		t.Fatalf("Names: %d names, sorted %v", len(names), slices.IsSorted(names))
	}
	for _, n := range names {
		if _, ok := timezone.Load(n); !ok {
			t.Errorf("%s does not load", n)
		}
		for _, in := range []string{n, strings.ToLower(n), strings.ToUpper(n)} {
			if got, msg := timezone.Parse(in); got != n {
				t.Errorf("Parse(%q) = %q, %q; want %s", in, got, msg, n)
			}
		}
		if len(n) > timezone.MaxLen/2 {
			t.Errorf("%s is longer than MaxLen/2: raise MaxLen", n)
		}
		for _, c := range n {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-+", c) {
				t.Errorf("%s holds %q", n, c)
			}
		}
	}
}

func TestNamesDifferBeyondCase(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, n := range timezone.Names() {
		if other, ok := seen[strings.ToLower(n)]; ok {
			t.Errorf("%s and %s differ only in case: Parse cannot tell them apart", other, n)
		}
		seen[strings.ToLower(n)] = n
	}
}

// names.go lists exactly the zones of the database time/tzdata embeds, which is the
// zoneinfo.zip of the Go release in use. After a Go upgrade that changes the database,
// run go generate ./pkg/timezone.
func TestNamesAreTheEmbeddedDatabase(t *testing.T) {
	t.Parallel()
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v (the go command is needed to find the database)", err)
	}
	path := filepath.Join(strings.TrimSpace(string(root)), "lib", "time", "zoneinfo.zip")
	if _, err := os.Stat(path); err != nil && os.Getenv("CI") != "true" {
		t.Skipf("the Go release's zone database is not at %s", path)
	}
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var want []string
	for _, f := range r.File {
		if !f.FileInfo().IsDir() {
			want = append(want, f.Name)
		}
	}
	slices.Sort(want)
	if got := timezone.Names(); !slices.Equal(got, want) {
		t.Errorf("names.go has %d names, %s has %d: run go generate ./pkg/timezone", len(got), path, len(want))
	}
}

// FuzzParse: whatever the input, exactly one of name and message; a name is of the
// database, is given back by Parse in any case, and loads; a message quoting the input
// stays short.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"UTC", "Europe/London", "europe/london", "AMERICA/NEW_YORK", "Etc/GMT+5", " Asia/Tokyo ", "",
		"Local", "localtime", "posix/UTC", "../../etc/passwd", "Europe/London\u200b", "\ufeffUTC", "Asia/\u212Aolkata",
		"ＵＴＣ", "UTC\x00", strings.Repeat("a", 65), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, msg := timezone.Parse(s)
		if (got == "") == (msg == "") {
			t.Fatalf("Parse(%q) = %q, %q: want exactly one of name and message", s, got, msg)
		}
		if msg != "" {
			if len(msg) > 20+4*10*timezone.MaxLen {
				t.Errorf("Parse(%q): a %d-byte message", s, len(msg))
			}
			if utf8.ValidString(s) && strings.EqualFold(strings.TrimSpace(s), "utc") {
				t.Errorf("Parse(%q) refused: %s", s, msg)
			}
			return
		}
		if !slices.Contains(timezone.Names(), got) {
			t.Fatalf("Parse(%q) = %q, not a name of the database", s, got)
		}
		for _, in := range []string{got, strings.ToLower(got), strings.ToUpper(got)} {
			if again, msg := timezone.Parse(in); again != got {
				t.Errorf("Parse(%q) = %q, but Parse(%q) = %q, %q", s, got, in, again, msg)
			}
		}
		if !strings.EqualFold(strings.TrimSpace(s), got) {
			t.Errorf("Parse(%q) = %q: more than case and white space changed", s, got)
		}
		if _, ok := timezone.Load(got); !ok {
			t.Errorf("Parse(%q) = %q, which does not load", s, got)
		}
	})
}
