package logo

import (
	"bytes"
	"errors"
	"fmt"
)

// JPEG markers the walker tells apart (ITU T.81, table B.1).
const (
	markerSOF0  = 0xC0 // baseline sequential
	markerSOF1  = 0xC1 // extended sequential
	markerSOF2  = 0xC2 // progressive
	markerRST0  = 0xD0
	markerRST7  = 0xD7
	markerSOI   = 0xD8
	markerEOI   = 0xD9
	markerSOS   = 0xDA
	markerAPP14 = 0xEE
)

// jpegComponent is one colour component of a JPEG frame.
type jpegComponent struct {
	id   byte
	h, v int // sampling factors, 1 to 4
}

// jpegLayout is what walkJPEG learns from a JPEG's markers, without decoding it.
type jpegLayout struct {
	frame       bool // a SOF0, SOF1 or SOF2 segment was seen; the fields below are its
	progressive bool
	width       int
	height      int
	components  []jpegComponent
	// adobeRGB is set when an Adobe APP14 segment says the colour transform is
	// "unknown", which image/jpeg takes to mean RGB and converts to an *image.RGBA.
	adobeRGB bool
	scans    int // SOS markers up to EOI
	coded    int // components named by those SOS markers, counting repeats
}

// errJPEGStructure means the walker could not follow the file's segments to an EOI
// marker: a truncated segment, a length below 2, or no EOI at all. image/jpeg refuses
// all of these too, so such a file is refused before it is decoded.
var errJPEGStructure = errors.New("jpeg: malformed segment structure")

// tooManyScansError means the file has more scans than the walker allows.
type tooManyScansError struct {
	max         int
	progressive bool
}

func (e *tooManyScansError) Error() string {
	return fmt.Sprintf("jpeg: more than %d scans", e.max)
}

// message is the client-facing reason.
func (e *tooManyScansError) message() string {
	if e.progressive {
		return fmt.Sprintf("JPEG image has more than %d scans", e.max)
	}
	return fmt.Sprintf("sequential JPEG image codes its %d colour components more than once", e.max)
}

// walkJPEG follows the markers of data, which starts with SOI: segments by their
// lengths, and after each SOS the entropy-coded data up to the next marker that is not a
// restart marker, until EOI. It stops with a *tooManyScansError as soon as it has seen
// more than maxScans SOS markers in a progressive JPEG, or, in a sequential one, scans
// that between them name more components than the frame has: ITU T.81 (section A.2)
// codes each component of a sequential image in exactly one scan, libjpeg refuses to
// write anything else, and image/jpeg, which decodes every scan it is given in full,
// would otherwise spend an inverse DCT of the whole image on each repeat.
//
// The walk is linear in len(data) whatever the input: every step moves forward by at
// least one byte, lengths are checked against what is left before they are used, and
// nothing is allocated beyond the frame's (at most 255) components.
//
// It finds every SOS marker that image/jpeg acts on. The decoder, like the walker,
// treats the bytes after a scan as data up to the next 0xFF that is followed by neither
// 0x00 (a stuffed byte), 0xFF (fill) nor a restart marker; its entropy decoder never
// reads a marker as data; and it skips stray bytes between segments, as the walker does.
// Where the two differ (the walker tolerates fill bytes before 0x00, for instance) the
// decoder refuses the file, so undercounting cannot let a file through.
func walkJPEG(data []byte, maxScans int) (jpegLayout, error) {
	var l jpegLayout
	if len(data) < 2 || data[0] != 0xFF || data[1] != markerSOI {
		return l, errJPEGStructure
	}
	i := 2
	for {
		// Skip stray bytes up to the next 0xFF, as image/jpeg does.
		j := bytes.IndexByte(data[i:], 0xFF)
		if j < 0 {
			return l, errJPEGStructure
		}
		i += j
		// Any number of 0xFF fill bytes may precede a marker (section B.1.1.2).
		for i < len(data) && data[i] == 0xFF {
			i++
		}
		if i == len(data) {
			return l, errJPEGStructure
		}
		marker := data[i]
		i++
		switch {
		case marker == 0x00:
			// A stuffed zero outside a scan: stray data, skipped like the decoder does.
			continue
		case marker == markerEOI:
			return l, nil
		case markerRST0 <= marker && marker <= markerRST7:
			// Restart markers carry no length; a stray one is ignored by the decoder.
			continue
		}
		if len(data)-i < 2 {
			return l, errJPEGStructure
		}
		n := int(data[i])<<8 | int(data[i+1])
		if n < 2 || n > len(data)-i {
			return l, errJPEGStructure
		}
		payload := data[i+2 : i+n]
		i += n
		switch marker {
		case markerSOF0, markerSOF1, markerSOF2:
			// image/jpeg refuses a second SOF, so the first one describes the image.
			if !l.frame {
				if err := l.readFrame(marker, payload); err != nil {
					return l, err
				}
			}
		case markerAPP14:
			// Mirrors image/jpeg's processApp14Marker: "Adobe", then the transform
			// flag at offset 11, where 0 means "unknown" (in practice RGB).
			if len(payload) >= 12 && string(payload[:5]) == "Adobe" && payload[11] == 0 {
				l.adobeRGB = true
			}
		case markerSOS:
			// image/jpeg refuses a scan before the frame header, and a scan header
			// whose length does not match its component count (1 to the frame's).
			if !l.frame || len(payload) < 1 {
				return l, errJPEGStructure
			}
			if ns := int(payload[0]); ns < 1 || ns > len(l.components) || len(payload) != 4+2*ns {
				return l, errJPEGStructure
			}
			l.scans++
			l.coded += int(payload[0])
			if l.progressive && l.scans > maxScans {
				return l, &tooManyScansError{max: maxScans, progressive: true}
			}
			if !l.progressive && l.coded > len(l.components) {
				return l, &tooManyScansError{max: len(l.components)}
			}
			end, ok := entropyEnd(data, i)
			if !ok {
				return l, errJPEGStructure
			}
			i = end
		}
	}
}

// readFrame records a SOF segment's dimensions and components.
func (l *jpegLayout) readFrame(marker byte, p []byte) error {
	if len(p) < 6 {
		return errJPEGStructure
	}
	nc := int(p[5])
	if nc == 0 || len(p) < 6+3*nc {
		return errJPEGStructure
	}
	l.frame = true
	l.progressive = marker == markerSOF2
	l.height = int(p[1])<<8 | int(p[2])
	l.width = int(p[3])<<8 | int(p[4])
	l.components = make([]jpegComponent, nc)
	for k := range nc {
		c := p[6+3*k:]
		h, v := int(c[1]>>4), int(c[1]&0x0F)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			// image/jpeg refuses these too; stopping here keeps the estimate's
			// arithmetic away from zero factors.
			return errJPEGStructure
		}
		if nc == 1 {
			// image/jpeg treats a single component as 1x1 whatever it declares.
			h, v = 1, 1
		}
		l.components[k] = jpegComponent{id: c[0], h: h, v: v}
	}
	return nil
}

// entropyEnd returns the offset of the 0xFF that starts the first marker after the
// entropy-coded data beginning at data[i]: an 0xFF (after any fill bytes) followed by
// a byte other than 0x00 and the restart markers. It reports false when the data ends
// first.
func entropyEnd(data []byte, i int) (int, bool) {
	for {
		j := bytes.IndexByte(data[i:], 0xFF)
		if j < 0 {
			return 0, false
		}
		ff := i + j
		k := ff + 1
		for k < len(data) && data[k] == 0xFF {
			k++
		}
		if k == len(data) {
			return 0, false
		}
		if b := data[k]; b == 0x00 || (markerRST0 <= b && b <= markerRST7) {
			i = k + 1
			continue
		}
		return k - 1, true
	}
}

// isRGB reports whether image/jpeg will convert a three-component image to an
// *image.RGBA: an Adobe APP14 "unknown" transform or the component identifiers R, G, B.
// It ignores a JFIF APP0 segment, which makes the decoder say no, so that it errs
// towards a larger estimate.
func (l *jpegLayout) isRGB() bool {
	if len(l.components) != 3 {
		return false
	}
	c := l.components
	return l.adobeRGB || (c[0].id == 'R' && c[1].id == 'G' && c[2].id == 'B')
}
