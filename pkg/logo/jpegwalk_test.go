package logo

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"testing"
)

// seg returns a JPEG segment: 0xFF, marker, length, payload.
func seg(marker byte, payload ...byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	soi = []byte{0xFF, markerSOI}
	eoi = []byte{0xFF, markerEOI}
	// A 16x8 grey sequential frame, a 16x8 progressive 4:2:0 frame, and scans of them.
	sofGrey  = seg(markerSOF0, 8, 0, 8, 0, 16, 1, 1, 0x11, 0)
	sof420   = seg(markerSOF2, 8, 0, 8, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0)
	sosGrey  = seg(markerSOS, 1, 1, 0x00, 0, 63, 0)
	sos420DC = seg(markerSOS, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0)
	sos420AC = seg(markerSOS, 1, 1, 0x00, 1, 63, 0)
)

func TestWalkJPEG(t *testing.T) {
	type want struct {
		err         error // errJPEGStructure, a *tooManyScansError or nil
		scans       int
		w, h, comps int
		progressive bool
		adobeRGB    bool
	}
	structure := want{err: errJPEGStructure}
	tooMany := want{err: &tooManyScansError{}}
	grey := func(scans int) want { return want{scans: scans, w: 16, h: 8, comps: 1} }
	prog := func(scans int) want { return want{scans: scans, w: 16, h: 8, comps: 3, progressive: true} }
	tests := []struct {
		name string
		data []byte
		want want
	}{
		{"empty", nil, structure},
		{"not a JPEG", []byte("GIF89a"), structure},
		{"SOI only", soi, structure},
		{"SOI EOI", cat(soi, eoi), want{}},
		{"data after EOI ignored", cat(soi, sofGrey, sosGrey, []byte{1, 2}, eoi, sosGrey, sosGrey), grey(1)},
		{"fill bytes before markers", cat(soi, []byte{0xFF, 0xFF}, sofGrey, []byte{0xFF}, sosGrey, []byte{0x12}, []byte{0xFF, 0xFF}, eoi), grey(1)},
		{"stray bytes between segments", cat(soi, []byte{0x00, 0x11, 0xFF, 0x00}, sofGrey, sosGrey, []byte{0x12}, []byte{0x33}, eoi), grey(1)},
		{"restart marker between segments", cat(soi, []byte{0xFF, markerRST0}, sofGrey, sosGrey, eoi), grey(1)},
		{"stuffed bytes and restart markers inside a scan", cat(soi, sofGrey, sosGrey,
			[]byte{0x12, 0xFF, 0x00, 0x34, 0xFF, markerRST0, 0x56, 0xFF, 0xFF, markerRST7, 0xFF, 0x00}, eoi), grey(1)},
		{"scan ends at a marker after fill bytes", cat(soi, sof420, sos420DC, []byte{0x12, 0xFF, 0xFF}, sos420AC, []byte{0x34}, eoi), prog(2)},
		{"scan with no entropy data", cat(soi, sof420, sos420DC, sos420AC, sos420AC, eoi), prog(3)},
		{"length 0", cat(soi, []byte{0xFF, 0xE0, 0, 0}, eoi), structure},
		{"length 1", cat(soi, []byte{0xFF, 0xE0, 0, 1}, eoi), structure},
		{"length past the end", cat(soi, []byte{0xFF, 0xE0, 0xFF, 0xFF, 0}, eoi), structure},
		{"length cut short", cat(soi, []byte{0xFF, 0xE0, 0}), structure},
		{"ends in fill bytes", cat(soi, sofGrey, []byte{0xFF, 0xFF, 0xFF}), structure},
		{"ends in stray bytes", cat(soi, sofGrey, []byte{1, 2, 3}), structure},
		{"no EOI after a segment", cat(soi, sofGrey), structure},
		{"scan data cut short", cat(soi, sofGrey, sosGrey, []byte{0x12, 0x34}), structure},
		{"scan data ends in 0xFF", cat(soi, sofGrey, sosGrey, []byte{0x12, 0xFF}), structure},
		{"scan data ends in fill bytes", cat(soi, sofGrey, sosGrey, []byte{0x12, 0xFF, 0xFF}), structure},
		{"scan before the frame", cat(soi, sosGrey, sofGrey, eoi), structure},
		{"scan header too short", cat(soi, sofGrey, seg(markerSOS), eoi), structure},
		{"scan header length mismatch", cat(soi, sofGrey, seg(markerSOS, 1, 1, 0, 0, 63), eoi), structure},
		{"scan naming more components than the frame", cat(soi, sofGrey, seg(markerSOS, 2, 1, 0, 2, 0, 0, 63, 0), eoi), structure},
		{"scan naming no components", cat(soi, sofGrey, seg(markerSOS, 0, 0, 63, 0), eoi), structure},
		{"frame without components", cat(soi, seg(markerSOF0, 8, 0, 8, 0, 16, 0), eoi), structure},
		{"frame shorter than its components", cat(soi, seg(markerSOF0, 8, 0, 8, 0, 16, 3, 1, 0x11, 0), eoi), structure},
		{"frame too short", cat(soi, seg(markerSOF0, 8, 0, 8), eoi), structure},
		{"zero sampling factor", cat(soi, seg(markerSOF0, 8, 0, 8, 0, 16, 1, 1, 0x01, 0), eoi), structure},
		{"sampling factor over 4", cat(soi, seg(markerSOF0, 8, 0, 8, 0, 16, 1, 1, 0x51, 0), eoi), structure},
		{"second frame ignored", cat(soi, sofGrey, seg(markerSOF2, 8, 1, 0, 1, 0, 1, 1, 0x11, 0), sosGrey, eoi), grey(1)},
		{"progressive at the limit", cat(soi, sof420, sos420DC, sos420AC, sos420AC, eoi), prog(3)},
		{"progressive over the limit", cat(soi, sof420, sos420DC, sos420AC, sos420AC, sos420AC, eoi), tooMany},
		{"scan hidden behind fill bytes in scan data is counted", cat(soi, sof420, sos420DC, []byte{0x11, 0xFF, 0xFF},
			sos420AC, []byte{0x22, 0xFF}, sos420AC, []byte{0xFF, 0xFF, 0xFF}, sos420AC, eoi), tooMany},
		{"sequential: one scan per component", cat(soi, seg(markerSOF0, 8, 0, 8, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0),
			seg(markerSOS, 1, 1, 0, 0, 63, 0), seg(markerSOS, 2, 2, 0, 3, 0, 0, 63, 0), eoi), want{scans: 2, w: 16, h: 8, comps: 3}},
		{"sequential: a component coded twice", cat(soi, seg(markerSOF0, 8, 0, 8, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0),
			seg(markerSOS, 2, 1, 0, 2, 0, 0, 63, 0), seg(markerSOS, 2, 2, 0, 3, 0, 0, 63, 0), eoi), tooMany},
		{"sequential: scan repeated", cat(soi, sofGrey, sosGrey, sosGrey, eoi), tooMany},
		{"Adobe RGB", cat(soi, seg(markerAPP14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0), sofGrey, eoi),
			want{w: 16, h: 8, comps: 1, adobeRGB: true}},
		{"Adobe YCbCr", cat(soi, seg(markerAPP14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 1), sofGrey, eoi), want{w: 16, h: 8, comps: 1}},
		{"short Adobe segment", cat(soi, seg(markerAPP14, 'A', 'd', 'o', 'b', 'e', 0), sofGrey, eoi), want{w: 16, h: 8, comps: 1}},
		{"a megabyte of fill bytes", cat(soi, bytes.Repeat([]byte{0xFF}, 1<<20), eoi[1:]), want{}},
		{"a megabyte of stray bytes", cat(soi, bytes.Repeat([]byte{0x00}, 1<<20), eoi), want{}},
		{"a megabyte of stuffed bytes in a scan", cat(soi, sofGrey, sosGrey, bytes.Repeat([]byte{0xFF, 0x00}, 1<<19), eoi), grey(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := walkJPEG(tt.data, 3)
			switch tt.want.err.(type) {
			case nil:
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
			case *tooManyScansError:
				var tm *tooManyScansError
				if !errors.As(err, &tm) {
					t.Fatalf("got error %v, want too many scans", err)
				}
				return
			default:
				if !errors.Is(err, tt.want.err) {
					t.Fatalf("got error %v, want %v", err, tt.want.err)
				}
				return
			}
			got := want{scans: l.scans, w: l.width, h: l.height, comps: len(l.components), progressive: l.progressive, adobeRGB: l.adobeRGB}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestWalkJPEGStandardEncoder checks the walker against image/jpeg's own output.
func TestWalkJPEGStandardEncoder(t *testing.T) {
	tests := []struct {
		name  string
		img   image.Image
		comps int
	}{
		{"grey", image.NewGray(image.Rect(0, 0, 33, 17)), 1},
		{"colour", testImage(40, 9), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, tt.img, nil); err != nil {
				t.Fatal(err)
			}
			l, err := walkJPEG(buf.Bytes(), MaxScans)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			b := tt.img.Bounds()
			if l.scans != 1 || l.width != b.Dx() || l.height != b.Dy() || len(l.components) != tt.comps || l.progressive {
				t.Errorf("got %d scans, %dx%d, %d components, progressive %v; want 1, %dx%d, %d, false",
					l.scans, l.width, l.height, len(l.components), l.progressive, b.Dx(), b.Dy(), tt.comps)
			}
		})
	}
}

// FuzzWalkJPEG checks that the walker copes with any input and never refuses the
// structure of a file image/jpeg decodes.
func FuzzWalkJPEG(f *testing.F) {
	f.Add(cat(soi, sofGrey, sosGrey, []byte{0x12, 0xFF, 0x00, 0xFF, markerRST0}, eoi))
	f.Add(cat(soi, sof420, sos420DC, []byte{0x11, 0xFF, 0xFF}, sos420AC, eoi))
	f.Add(encodeJPEG(f, 9, 5))
	f.Add(jpegSpec{w: 24, h: 16, sampling: s420, progressive: true, scans: 12}.build())
	f.Add(jpegSpec{w: 8, h: 8, sampling: cmyk, adobe: 1, scans: 1}.build())
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := walkJPEG(data, 1<<20)
		cfg, cerr := jpeg.DecodeConfig(bytes.NewReader(data))
		if cerr != nil || cfg.Width*cfg.Height > 1<<16 {
			return
		}
		img, derr := jpeg.Decode(bytes.NewReader(data))
		if derr != nil {
			return
		}
		if err != nil {
			t.Fatalf("image/jpeg decodes it, but the walker says %v", err)
		}
		if b := img.Bounds(); b.Dx() != l.width || b.Dy() != l.height {
			t.Fatalf("got frame %dx%d from the walker, want %dx%d", l.width, l.height, b.Dx(), b.Dy())
		}
	})
}
