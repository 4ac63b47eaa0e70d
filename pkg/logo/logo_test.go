package logo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/convrs/admin/pkg/problem"
)

func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x * 40), G: uint8(y * 40), B: 128, A: 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, testImage(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader returns a PNG signature and a well-formed IHDR chunk claiming the given
// dimensions, with no pixel data after it.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth
	ihdr[9] = 6 // colour type RGBA
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	buf.Write(chunk)
	_ = binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return buf.Bytes()
}

// gifHeader returns a GIF header and logical screen descriptor claiming the given size.
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0)
}

func pad(data []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, data)
	return out
}

func TestInspect(t *testing.T) {
	smallPNG := encodePNG(t, 3, 2)
	tests := []struct {
		name    string
		data    []byte
		want    Info
		code    problem.Code
		message string // field message for Invalid
	}{
		{name: "png", data: smallPNG, want: Info{ContentType: "image/png", Width: 3, Height: 2}},
		{name: "jpeg", data: encodeJPEG(t, 5, 4), want: Info{ContentType: "image/jpeg", Width: 5, Height: 4}},
		{name: "gif", data: encodeGIF(t, 2, 7), want: Info{ContentType: "image/gif", Width: 2, Height: 7}},
		{name: "max width", data: encodePNG(t, MaxDimension, 1), want: Info{ContentType: "image/png", Width: MaxDimension, Height: 1}},
		{name: "png padded to exactly MaxBytes", data: pad(smallPNG, MaxBytes), want: Info{ContentType: "image/png", Width: 3, Height: 2}},

		{name: "nil", data: nil, code: problem.Invalid, message: "image is empty"},
		{name: "empty", data: []byte{}, code: problem.Invalid, message: "image is empty"},
		{name: "MaxBytes+1", data: pad(smallPNG, MaxBytes+1), code: problem.TooLarge},
		{name: "MaxBytes+1 garbage", data: bytes.Repeat([]byte("x"), MaxBytes+1), code: problem.TooLarge},

		{name: "webp", data: []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), code: problem.UnsupportedMedia},
		{name: "pdf", data: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), code: problem.UnsupportedMedia},
		{name: "text", data: []byte("hello, this is not an image\n"), code: problem.UnsupportedMedia},
		{name: "svg", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), code: problem.UnsupportedMedia},
		{name: "bmp", data: []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), code: problem.UnsupportedMedia},
		{name: "png signature prefix only", data: []byte("\x89PNG"), code: problem.UnsupportedMedia},

		{name: "truncated png", data: smallPNG[:len(smallPNG)-20], code: problem.Invalid, message: "image could not be decoded"},
		{name: "png header garbage", data: append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB, 0x17}, 64)...), code: problem.Invalid, message: "image could not be decoded"},
		{name: "png signature only", data: []byte("\x89PNG\r\n\x1a\n"), code: problem.Invalid, message: "image could not be decoded"},
		{name: "png ihdr only", data: pngHeader(16, 16), code: problem.Invalid, message: "image could not be decoded"},
		{name: "truncated jpeg", data: encodeJPEG(t, 16, 16)[:40], code: problem.Invalid, message: "image could not be decoded"},
		{name: "jpeg magic garbage", data: append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{0x00}, 32)...), code: problem.Invalid, message: "image could not be decoded"},
		{name: "gif header only", data: gifHeader(4, 4), code: problem.Invalid, message: "image could not be decoded"},

		{name: "width over max", data: encodePNG(t, MaxDimension+1, 1), code: problem.Invalid, message: "image must be at most 2048x2048 pixels"},
		{name: "height over max", data: encodePNG(t, 1, MaxDimension+1), code: problem.Invalid, message: "image must be at most 2048x2048 pixels"},
		{name: "old max width", data: encodePNG(t, 4096, 1), code: problem.Invalid, message: "image must be at most 2048x2048 pixels"},
		{name: "png bomb header", data: pngHeader(100000, 100000), code: problem.Invalid, message: "image must be at most 2048x2048 pixels"},
		{name: "gif bomb header", data: gifHeader(65535, 65535), code: problem.Invalid, message: "image must be at most 2048x2048 pixels"},
		{name: "gif zero size", data: gifHeader(0, 0), code: problem.Invalid, message: "image must be at most 2048x2048 pixels"},

		{name: "max size 8-bit RGBA interlaced png", data: pngSpec{w: MaxDimension, h: MaxDimension, colorType: 6, depth: 8, interlaced: true}.build(),
			want: Info{ContentType: "image/png", Width: MaxDimension, Height: MaxDimension}},
		{name: "max size 4:2:0 progressive jpeg", data: jpegSpec{w: MaxDimension, h: MaxDimension, sampling: s420, progressive: true, scans: 10}.build(),
			want: Info{ContentType: "image/jpeg", Width: MaxDimension, Height: MaxDimension}},
		{name: "16-bit interlaced png over the decode budget", data: pngSpec{w: 2048, h: 2048, colorType: 6, depth: 16, interlaced: true}.build(),
			code: problem.Invalid, message: "image would need 65 MiB to decode; at most 48 MiB"},
		{name: "4:4:4 progressive jpeg over the decode budget", data: jpegSpec{w: 2048, h: 2048, sampling: s444, progressive: true, scans: 10}.build(),
			code: problem.Invalid, message: "image would need 61 MiB to decode; at most 48 MiB"},
		{name: "jpeg with 33 scans", data: jpegSpec{w: 16, h: 16, sampling: s420, progressive: true, scans: 33}.build(),
			code: problem.Invalid, message: "JPEG image has more than 32 scans"},
		{name: "sequential jpeg with a repeated scan", data: jpegSpec{w: 16, h: 16, sampling: grey, scans: 2}.build(),
			code: problem.Invalid, message: "sequential JPEG image codes its 1 colour components more than once"},
		{name: "jpeg without EOI", data: bytes.TrimSuffix(encodeJPEG(t, 16, 16), []byte{0xFF, 0xD9}), code: problem.Invalid, message: "image could not be decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect(context.Background(), tt.data)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Inspect: got error %v, want none", err)
				}
				if got != tt.want {
					t.Fatalf("Inspect: got %+v, want %+v", got, tt.want)
				}
				return
			}
			var pe *problem.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Inspect: got error %v (%T), want a *problem.Error", err, err)
			}
			if pe.Code != tt.code {
				t.Fatalf("got code %q, want %q (%v)", pe.Code, tt.code, err)
			}
			if got != (Info{}) {
				t.Errorf("got Info %+v on error, want zero", got)
			}
			if tt.code == problem.Invalid {
				if len(pe.Fields) != 1 || pe.Fields[0].Field != "logo" || pe.Fields[0].Message != tt.message {
					t.Errorf("got fields %+v, want [{logo %q}]", pe.Fields, tt.message)
				}
			}
		})
	}
}

func TestInspectMessages(t *testing.T) {
	tests := []struct {
		data []byte
		want string
	}{
		{make([]byte, MaxBytes+1), "logo must be at most 1,536,000 bytes"},
		{[]byte("plain text"), "logo must be a JPG, GIF or PNG image"},
	}
	for _, tt := range tests {
		_, err := Inspect(context.Background(), tt.data)
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Message != tt.want {
			t.Errorf("Inspect: got error %v, want message %q", err, tt.want)
		}
	}
}

func FuzzInspect(f *testing.F) {
	smallPNG := encodePNG(f, 3, 2)
	seeds := [][]byte{
		{},
		smallPNG,
		smallPNG[:len(smallPNG)-20],
		encodeJPEG(f, 5, 4),
		encodeGIF(f, 2, 7),
		append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB, 0x17}, 64)...),
		pngHeader(100000, 100000),
		pngHeader(16, 16),
		gifHeader(0, 0),
		gifHeader(65535, 65535),
		{0xFF, 0xD8, 0xFF, 0xE0},
		[]byte("RIFF\x24\x00\x00\x00WEBPVP8 "),
		[]byte("%PDF-1.7\n"),
		[]byte("hello"),
		// Small relatives of the bombs, so that mutations stay quick to run.
		jpegSpec{w: 64, h: 64, sampling: s420, progressive: true, scans: 10}.build(),
		jpegSpec{w: 16, h: 16, sampling: grey, progressive: true, scans: 40}.build(),
		jpegSpec{w: 16, h: 16, sampling: cmyk, adobe: 1, progressive: true, scans: 6, dcRefine: true}.build(),
		jpegSpec{w: 16, h: 8, sampling: s444, ids: []byte("RGB"), scans: 2}.build(),
		pngSpec{w: 33, h: 17, colorType: 6, depth: 16, interlaced: true}.build(),
		pngSpec{w: 9, h: 9, colorType: 0, depth: 16, interlaced: true, trns: true}.build(),
		pngSpec{w: 2048, h: 2048, colorType: 6, depth: 16, interlaced: true, truncate: 2000}.build(),
		// The bombs themselves: refused before decoding.
		pngSpec{w: 4096, h: 4096, colorType: 6, depth: 16, interlaced: true, truncate: 4000}.build(),
		jpegSpec{w: 4096, h: 4096, sampling: s444, progressive: true, scans: 10}.build(),
		jpegSpec{w: 2048, h: 2048, sampling: grey, progressive: true, scans: 100}.build(),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(context.Background(), data)
		if used, _, waiting := decodeMemory.state(); used != 0 || waiting != 0 {
			t.Fatalf("got %d bytes of decoder memory held and %d waiters after Inspect, want none", used, waiting)
		}
		if err == nil {
			switch info.ContentType {
			case "image/jpeg", "image/gif", "image/png":
			default:
				t.Fatalf("accepted with content type %q", info.ContentType)
			}
			if info.Width < 1 || info.Height < 1 || info.Width > MaxDimension || info.Height > MaxDimension {
				t.Fatalf("accepted with size %dx%d", info.Width, info.Height)
			}
			if len(data) == 0 || len(data) > MaxBytes {
				t.Fatalf("accepted %d bytes", len(data))
			}
			return
		}
		var pe *problem.Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *problem.Error", err, err)
		}
		switch pe.Code {
		case problem.Invalid, problem.TooLarge, problem.UnsupportedMedia:
		default:
			t.Fatalf("unexpected code %q", pe.Code)
		}
		if info != (Info{}) {
			t.Fatalf("non-zero Info %+v with error", info)
		}
	})
}
