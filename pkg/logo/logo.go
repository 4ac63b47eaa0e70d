// Package logo validates organisation logo uploads: it accepts only JPG, GIF and PNG
// images, judged by their bytes and never by a declared content type, bounded in both
// size and pixel dimensions, and fully decodable.
package logo

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/convrs/admin/pkg/problem"
)

// MaxBytes is the largest logo accepted, in bytes.
const MaxBytes = 1536000

// MaxDimension is the largest width or height accepted, in pixels. It is checked from
// the image header before the pixels are decoded, so that a small file cannot expand
// into a huge bitmap.
const MaxDimension = 4096

// field is the name under which validation failures are reported.
const field = "logo"

// Info describes an accepted logo.
type Info struct {
	// ContentType is "image/jpeg", "image/gif" or "image/png", derived from the bytes.
	ContentType string
	Width       int
	Height      int
}

type format struct {
	contentType  string
	magic        [][]byte
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

// formats are the only image formats accepted. The decoders are called directly rather
// than through image.Decode so that no other registered format can ever be accepted.
var formats = []format{
	{
		contentType:  "image/jpeg",
		magic:        [][]byte{{0xFF, 0xD8, 0xFF}},
		decodeConfig: jpeg.DecodeConfig,
		decode:       jpeg.Decode,
	},
	{
		contentType:  "image/gif",
		magic:        [][]byte{[]byte("GIF87a"), []byte("GIF89a")},
		decodeConfig: gif.DecodeConfig,
		// gif.Decode decodes the first frame only, which bounds the work to a single
		// frame of at most MaxDimension x MaxDimension pixels.
		decode: gif.Decode,
	},
	{
		contentType:  "image/png",
		magic:        [][]byte{[]byte("\x89PNG\r\n\x1a\n")},
		decodeConfig: png.DecodeConfig,
		decode:       png.Decode,
	},
}

// Inspect checks that data is an acceptable logo and describes it. The checks run from
// cheapest to most expensive, and every failure is a *problem.Error:
//
//   - problem.Invalid (field "logo", "image is empty") when data is empty;
//   - problem.TooLarge when data is longer than MaxBytes;
//   - problem.UnsupportedMedia when data does not start like a JPG, GIF or PNG;
//   - problem.Invalid (field "logo") when the header cannot be read, when the width or
//     height is zero or larger than MaxDimension, or when the image does not decode.
func Inspect(data []byte) (Info, error) {
	if len(data) == 0 {
		return Info{}, invalid("image is empty", nil)
	}
	if len(data) > MaxBytes {
		return Info{}, problem.New(problem.TooLarge, "logo must be at most 1,536,000 bytes")
	}
	f, ok := sniff(data)
	if !ok {
		return Info{}, problem.New(problem.UnsupportedMedia, "logo must be a JPG, GIF or PNG image")
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return Info{}, invalid("image could not be decoded", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxDimension || cfg.Height > MaxDimension {
		return Info{}, invalid("image must be at most 4096x4096 pixels", nil)
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return Info{}, invalid("image could not be decoded", err)
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return Info{}, invalid("image could not be decoded", nil)
	}
	return Info{ContentType: f.contentType, Width: cfg.Width, Height: cfg.Height}, nil
}

func sniff(data []byte) (format, bool) {
	for _, f := range formats {
		for _, m := range f.magic {
			if bytes.HasPrefix(data, m) {
				return f, true
			}
		}
	}
	return format{}, false
}

func invalid(message string, cause error) *problem.Error {
	return &problem.Error{
		Code:    problem.Invalid,
		Message: "logo is invalid",
		Fields:  []problem.FieldError{{Field: field, Message: message}},
		Err:     cause,
	}
}
