// Package logo validates organisation logo uploads: it accepts only JPG, GIF and PNG
// images, judged by their bytes and never by a declared content type, bounded in size,
// pixel dimensions, decoding memory and (for JPEG) number of scans, and fully decodable.
//
// Decoding is the expensive part and the one a hostile file can blow up: a small file
// can describe a large bitmap. So Inspect works out, from the headers alone, how much
// memory the standard decoders will allocate, refuses a file that would need more than
// MaxDecodeBytes, and then waits for that much of a process-wide allowance (also
// MaxDecodeBytes) before it decodes, so that concurrent uploads cannot multiply the
// peak either. The decode runs under the caller's context and stops once it is done.
package logo

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/convrs/admin/pkg/problem"
)

// MaxBytes is the largest logo accepted, in bytes.
const MaxBytes = 1536000

// MaxDimension is the largest width or height accepted, in pixels. A logo is shown at
// most about 1024 CSS pixels wide, and 2048 pixels covers that on a 2x (retina)
// display; anything larger only costs memory and time to decode. It is checked from the
// image header before the pixels are decoded, so that a small file cannot expand into
// a huge bitmap.
const MaxDimension = 2048

// MaxDecodeBytes bounds the memory the decoder may allocate for one image, estimated
// from its header (see pngCost, jpegCost and gifCost), and is also the process-wide
// allowance shared by concurrent decodes. The general Lambda function has 256 MB; the
// Go collector lets the heap grow to about twice what is live (GOGC=100), so 48 MiB of
// decoder memory costs up to about 100 MiB of heap, which leaves room for the runtime,
// the SDK clients and the request body (copied a few times on its way in). 48 MiB
// still admits every 2048x2048 image a logo plausibly is: 8-bit RGBA PNG even
// interlaced (32 MiB), 16-bit PNG when not interlaced (32 MiB), any sequential JPEG
// (CMYK: 32 MiB), and a 4:2:0 progressive JPEG (30 MiB, 46 MiB if stored as RGB). It
// refuses a 2048x2048 16-bit interlaced PNG (about 64 MiB) and a 4:4:4 progressive
// JPEG (about 60 MiB), for which a smaller logo will do.
const MaxDecodeBytes = 48 << 20

// MaxScans is the largest number of scans (SOS markers) accepted in a progressive JPEG.
// image/jpeg decodes every scan it is given, and a scan made of end-of-band runs takes
// a few bytes however many blocks it covers, so without a limit a small file buys
// unbounded CPU time (a 230 KB file with about 1,000 scans took 40 s). libjpeg's
// progressive mode writes 10 scans for colour and 6 for grey, and scan-optimising
// encoders (jpegtran -optimize, mozjpeg) stay well within 20; 32 leaves a margin over
// those. With MaxDimension it bounds the worst accepted file (2048x2048 grey, 32
// refinement scans) to about 0.3 s of CPU on a server core (BenchmarkWorstJPEG); a
// 256 MB Lambda has a fraction of a vCPU, so it takes a few times that there, and the
// decode stops when the request's context ends. A sequential JPEG may code each colour
// component in one scan only (see walkJPEG), which bounds it to one decode's cost.
const MaxScans = 32

// field is the name under which validation failures are reported.
const field = "logo"

// decodeMemory is the process-wide allowance of decoder memory, in bytes. A decode
// holds its estimated cost of it for its duration; the allowance is the per-image
// limit, so whatever the concurrency the decoders never hold more than one worst-case
// image would, while small logos (a few hundred KiB decoded) still run side by side.
var decodeMemory = newBudget(MaxDecodeBytes)

// readChunk is the most a decoder gets from one Read, so that it reads, and the context
// is checked, at least every readChunk bytes of input. The standard decoders ask for 4
// KiB at a time, but a JPEG scan made of end-of-band runs takes only a few bytes, so
// 4 KiB can hold hundreds of scans: with 512-byte reads a compact many-scan file still
// ran 270 ms between two reads, with 64-byte reads 40 ms (2048x2048, a few scans). The
// extra reads cost 1 to 3 ms on a dense 1.5 MB file.
const readChunk = 64

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
	// cost estimates the bytes decode will allocate; it may refuse the image.
	cost func(data []byte, cfg image.Config, lim limits) (int64, *problem.Error)
}

// formats are the only image formats accepted. The decoders are called directly rather
// than through image.Decode so that no other registered format can ever be accepted.
var formats = []format{
	{
		contentType:  "image/jpeg",
		magic:        [][]byte{{0xFF, 0xD8, 0xFF}},
		decodeConfig: jpeg.DecodeConfig,
		decode:       jpeg.Decode,
		cost:         jpegCost,
	},
	{
		contentType:  "image/gif",
		magic:        [][]byte{[]byte("GIF87a"), []byte("GIF89a")},
		decodeConfig: gif.DecodeConfig,
		// gif.Decode decodes the first frame only, which bounds the work to a single
		// frame of at most MaxDimension x MaxDimension pixels.
		decode: gif.Decode,
		cost:   gifCost,
	},
	{
		contentType:  "image/png",
		magic:        [][]byte{[]byte("\x89PNG\r\n\x1a\n")},
		decodeConfig: png.DecodeConfig,
		decode:       png.Decode,
		cost:         pngCost,
	},
}

// limits are the limits Inspect applies that tests may need to change.
type limits struct {
	scans int // most SOS markers in a progressive JPEG
}

var defaultLimits = limits{scans: MaxScans}

// Inspect checks that data is an acceptable logo and describes it. The checks run from
// cheapest to most expensive, and every failure is a *problem.Error:
//
//   - problem.Invalid (field "logo", "image is empty") when data is empty;
//   - problem.TooLarge when data is longer than MaxBytes;
//   - problem.UnsupportedMedia when data does not start like a JPG, GIF or PNG;
//   - problem.Invalid (field "logo") when the header cannot be read, when the width or
//     height is zero or larger than MaxDimension, when decoding would need more than
//     MaxDecodeBytes, when a progressive JPEG has more than MaxScans scans or a
//     sequential one codes a colour component twice, or when the image does not
//     decode;
//   - problem.Unavailable when ctx is done before the check completes: while waiting
//     for decoder memory or while decoding, which then stops.
func Inspect(ctx context.Context, data []byte) (Info, error) {
	return inspect(ctx, data, defaultLimits)
}

func inspect(ctx context.Context, data []byte, lim limits) (Info, error) {
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
		return Info{}, invalid(fmt.Sprintf("image must be at most %dx%d pixels", MaxDimension, MaxDimension), nil)
	}
	cost, perr := f.cost(data, cfg, lim)
	if perr != nil {
		return Info{}, perr
	}
	if cost > MaxDecodeBytes {
		return Info{}, invalid(fmt.Sprintf("image would need %d MiB to decode; at most %d MiB",
			(cost+mib-1)/mib, MaxDecodeBytes/mib), nil)
	}
	if err := decodeMemory.acquire(ctx, cost); err != nil {
		return Info{}, abandoned(err)
	}
	defer decodeMemory.release(cost)
	img, err := f.decode(&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if ctx.Err() != nil {
		// The decoder's error, if any, is the context's, however it was wrapped.
		return Info{}, abandoned(ctx.Err())
	}
	if err != nil {
		return Info{}, invalid("image could not be decoded", err)
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return Info{}, invalid("image could not be decoded", nil)
	}
	return Info{ContentType: f.contentType, Width: cfg.Width, Height: cfg.Height}, nil
}

const mib = 1 << 20

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

func abandoned(cause error) *problem.Error {
	return problem.Wrap(problem.Unavailable, cause, "the image check was abandoned")
}

// ctxReader reads from r in chunks of at most readChunk bytes, and fails with the
// context's error once ctx is done, which makes the decoder reading it give up.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > readChunk {
		p = p[:readChunk]
	}
	return c.r.Read(p)
}

// Decoder memory estimates. Each counts the buffers the standard decoder allocates in
// proportion to the image (checked against image/png, image/jpeg and image/gif of Go
// 1.26 by TestDecodeCostCoversAllocation) plus a fixed allowance for the rest: Huffman
// and inflate tables, read buffers, the decoder itself (about 40 KiB for PNG), and the
// rounding of each large allocation up to whole 8 KiB pages.
const (
	pngOverhead  = 64 << 10
	jpegOverhead = 64 << 10
	gifOverhead  = 64 << 10
	// passOverhead is the page rounding of an interlaced PNG's pass image and its two
	// row buffers, for each of the seven passes.
	passOverhead = 16 << 10
)

// bytesPerPixel is the size of a pixel of the image a decoder returns for a colour
// model, as image.Config reports it. A model it does not know counts as the widest.
func bytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // at most: 4:4:4; subsampled chroma is smaller
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	default: // RGBA64, NRGBA64 and anything unforeseen
		return 8
	}
}

// pngCost estimates what png.Decode allocates: the image, plus, for an Adam7
// interlaced image, the seven pass images, which together hold as many pixels again;
// plus two rows of filter buffer for each pass.
func pngCost(data []byte, cfg image.Config, _ limits) (int64, *problem.Error) {
	interlaced, trns := pngLayout(data)
	bpp := bytesPerPixel(cfg.ColorModel)
	if trns {
		// png.DecodeConfig reports grey, but a grey image with a tRNS chunk is
		// decoded to NRGBA or NRGBA64.
		switch cfg.ColorModel {
		case color.GrayModel:
			bpp = 4
		case color.Gray16Model:
			bpp = 8
		}
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	// A row of raw data never has more bytes a pixel than the decoded image does.
	row := func(w int64) int64 { return 2 * (1 + w*bpp) }
	cost := w * h * bpp
	if !interlaced {
		return cost + row(w) + pngOverhead, nil
	}
	cost *= 2
	for _, p := range adam7Passes {
		pw := (w - p.x + p.dx - 1) / p.dx
		ph := (h - p.y + p.dy - 1) / p.dy
		if pw > 0 && ph > 0 {
			cost += row(pw) + passOverhead
		}
	}
	return cost + pngOverhead, nil
}

// adam7Passes are the seven passes of an interlaced PNG: offset and step, in pixels.
var adam7Passes = [7]struct{ x, y, dx, dy int64 }{
	{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2},
}

// pngLayout reports whether a PNG is interlaced and has a tRNS chunk, walking its
// chunks up to the first IDAT. png.DecodeConfig has already read a valid IHDR. When
// the chunks cannot be followed, it answers yes to both, the costlier case; the decoder
// will refuse such a file before allocating anything anyway.
func pngLayout(data []byte) (interlaced, trns bool) {
	i := 8 // after the signature
	for {
		if len(data)-i < 8 {
			return true, true
		}
		n := int64(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if n > int64(len(data)-i-12) {
			return true, true
		}
		body := data[i+8 : i+8+int(n)]
		switch typ {
		case "IHDR":
			if len(body) < 13 {
				return true, true
			}
			interlaced = body[12] != 0
		case "tRNS":
			trns = true
		case "IDAT":
			return interlaced, trns
		}
		i += 12 + int(n)
	}
}

// gifCost estimates what gif.Decode allocates for the first frame, which lies within
// the logical screen that image.Config describes: the paletted frame, and as much again
// to undo interlacing.
func gifCost(_ []byte, cfg image.Config, _ limits) (int64, *problem.Error) {
	return 2*int64(cfg.Width)*int64(cfg.Height) + gifOverhead, nil
}

// jpegCost walks a JPEG's markers, refusing too many scans, and estimates what
// jpeg.Decode allocates from the frame's geometry: one byte per sample for every 8x8
// block of every component (image.YCbCr or image.Gray, plus the K plane of a
// four-component image), padded to whole MCUs; for a progressive image, the int32
// coefficients of every block, kept for the whole image until the last scan (256 bytes
// a block); and a 4-byte-per-pixel copy when an RGB or CMYK/YCbCrK image is converted
// to image.RGBA or image.CMYK at the end.
func jpegCost(data []byte, cfg image.Config, lim limits) (int64, *problem.Error) {
	l, err := walkJPEG(data, lim.scans)
	if err != nil {
		if tm, ok := err.(*tooManyScansError); ok {
			return 0, invalid(tm.message(), err)
		}
		return 0, invalid("image could not be decoded", err)
	}
	if !l.frame || l.width != cfg.Width || l.height != cfg.Height {
		return 0, invalid("image could not be decoded", nil)
	}
	h0, v0 := l.components[0].h, l.components[0].v
	mxx := int64((l.width + 8*h0 - 1) / (8 * h0))
	myy := int64((l.height + 8*v0 - 1) / (8 * v0))
	var blocks int64
	for _, c := range l.components {
		blocks += mxx * myy * int64(c.h*c.v)
	}
	cost := 64 * blocks
	if l.progressive {
		cost += 256 * blocks
	}
	if len(l.components) == 4 || l.isRGB() {
		cost += 4 * int64(l.width) * int64(l.height)
	}
	return cost + jpegOverhead, nil
}
