package logo

// Builders of compact hostile and near-limit images. The standard encoders cannot
// write interlaced PNGs or progressive JPEGs, and compressing hundreds of megabytes of
// zeros with compress/zlib would be slow, so these write the formats by hand. Every
// image is all zeros (black, or transparent), which lets the encoded data be tiny: a
// deflate stream that repeats 258-byte matches at 2 bits each, and JPEG scans made of
// end-of-band runs.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// lsbWriter writes a deflate bit stream: values least significant bit first.
type lsbWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

func (w *lsbWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// code writes a Huffman code of n bits, most significant bit first, as deflate wants.
func (w *lsbWriter) code(c uint64, n uint) {
	w.bits(bits.Reverse64(c)>>(64-n), n)
}

func (w *lsbWriter) flush() []byte {
	if w.nbits > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nbits = 0, 0
	}
	return w.buf
}

// zeroZlib returns a zlib stream that inflates to n zero bytes, about n/1032 bytes
// long: one dynamic Huffman block whose literal/length code has only the literal 0
// ("10"), end of block ("11") and length 258 ("0"), and whose distance code has only
// distance 1 ("0"), so each 258 zeros cost two bits.
func zeroZlib(n int64) []byte {
	w := &lsbWriter{buf: []byte{0x78, 0x01}}
	w.bits(1, 1)  // BFINAL
	w.bits(2, 2)  // BTYPE: dynamic Huffman
	w.bits(29, 5) // HLIT: 286 literal/length codes
	w.bits(0, 5)  // HDIST: 1 distance code
	w.bits(14, 4) // HCLEN: 18 code length codes
	// Code length code lengths, in the order of RFC 1951 section 3.2.7: symbol 18
	// (a run of zeros) gets 1 bit, lengths 1 and 2 get 2 bits each.
	for _, sym := range []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1} {
		l := map[int]uint64{18: 1, 2: 2, 1: 2}[sym]
		w.bits(l, 3)
	}
	// Canonical codes: 18 -> 0, 1 -> 10, 2 -> 11.
	cl1 := func() { w.code(0b10, 2) }
	cl2 := func() { w.code(0b11, 2) }
	zeros := func(k int) { w.code(0, 1); w.bits(uint64(k-11), 7) }
	cl2()      // literal 0: length 2
	zeros(138) // 1..138
	zeros(117) // 139..255
	cl2()      // 256, end of block: length 2
	zeros(28)  // 257..284
	cl1()      // 285, length 258: length 1
	cl1()      // distance code 0 (distance 1): length 1
	lit0 := func() { w.code(0b10, 2) }
	if n > 0 {
		lit0()
		m := n - 1
		for range m / 258 {
			w.code(0, 1) // length 258
			w.code(0, 1) // distance 1
		}
		for range m % 258 {
			lit0()
		}
	}
	w.code(0b11, 2) // end of block
	out := w.flush()
	// Adler-32 of n zeros: a stays 1, b adds 1 per byte.
	return binary.BigEndian.AppendUint32(out, uint32(n%65521)<<16|1)
}

// pngSpec describes an all-zero PNG.
type pngSpec struct {
	w, h       int
	colorType  byte // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
	depth      byte
	interlaced bool
	trns       bool
	// truncate, when positive, cuts the file to that many bytes.
	truncate int
}

// adam7 are the Adam7 passes: x offset, y offset, x step, y step.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// rawSize is the length of the filtered, uncompressed pixel data.
func (s pngSpec) rawSize() int64 {
	channels := map[byte]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[s.colorType]
	bpp := channels * int64(s.depth)
	rows := func(w, h int64) int64 {
		if w == 0 || h == 0 {
			return 0
		}
		return h * (1 + (w*bpp+7)/8)
	}
	if !s.interlaced {
		return rows(int64(s.w), int64(s.h))
	}
	var n int64
	for _, p := range adam7 {
		pw := (int64(s.w) - int64(p[0]) + int64(p[2]) - 1) / int64(p[2])
		ph := (int64(s.h) - int64(p[1]) + int64(p[3]) - 1) / int64(p[3])
		n += rows(max(pw, 0), max(ph, 0))
	}
	return n
}

func (s pngSpec) build() []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(body)))
		c := append([]byte(typ), body...)
		buf.Write(c)
		_ = binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(s.w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(s.h))
	il := byte(0)
	if s.interlaced {
		il = 1
	}
	ihdr = append(ihdr, s.depth, s.colorType, 0, 0, il)
	chunk("IHDR", ihdr)
	if s.colorType == 3 {
		chunk("PLTE", make([]byte, 3*2))
	}
	if s.trns {
		switch s.colorType {
		case 0:
			chunk("tRNS", make([]byte, 2))
		case 2:
			chunk("tRNS", make([]byte, 6))
		case 3:
			chunk("tRNS", []byte{0})
		}
	}
	chunk("IDAT", zeroZlib(s.rawSize()))
	chunk("IEND", nil)
	out := buf.Bytes()
	if s.truncate > 0 && s.truncate < len(out) {
		out = out[:s.truncate]
	}
	return out
}

// jpegSpec describes an all-black JPEG.
type jpegSpec struct {
	w, h int
	// sampling is each component's h<<4|v: {0x11} grey, {0x22, 0x11, 0x11} 4:2:0,
	// {0x11, 0x11, 0x11} 4:4:4, four values for CMYK.
	sampling    []byte
	ids         []byte // component identifiers; 1, 2, 3... when nil
	progressive bool
	// scans is the number of SOS markers. A sequential image repeats its one
	// interleaved scan. A progressive image has a DC scan, one AC scan per component,
	// and then AC refinement scans (successive approximation), the most expensive kind
	// to decode, cycling over the components. At least 1 + len(sampling).
	scans int
	// dcRefine makes the refinement scans DC refinements of all components at once
	// (one bit a block, every block visited) instead of AC refinements of one.
	dcRefine bool
	// adobe, when set, adds an Adobe APP14 segment with this transform plus one (so
	// that 1 means transform 0, "unknown": RGB or CMYK).
	adobe byte
}

// msbWriter writes JPEG entropy-coded data: most significant bit first, 0xFF stuffed
// with 0x00, padded with 1 bits.
type msbWriter struct {
	buf   []byte
	acc   uint32
	nbits uint
}

func (w *msbWriter) bits(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>uint(i))&1
		w.nbits++
		if w.nbits == 8 {
			w.put(byte(w.acc))
		}
	}
}

func (w *msbWriter) put(b byte) {
	w.buf = append(w.buf, b)
	if b == 0xFF {
		w.buf = append(w.buf, 0x00)
	}
	w.acc, w.nbits = 0, 0
}

func (w *msbWriter) flush() []byte {
	if w.nbits > 0 {
		w.put(byte(w.acc<<(8-w.nbits) | (1<<(8-w.nbits) - 1)))
	}
	return w.buf
}

// eobRuns writes end-of-band runs covering n blocks with AC table 0, whose symbol r<<4
// (EOBr, a run of 2^r plus r extra bits) has the 4-bit code r.
func (w *msbWriter) eobRuns(n int) {
	for n > 0 {
		run := min(n, 32767)
		r := bits.Len(uint(run)) - 1
		w.bits(uint32(r), 4)
		w.bits(uint32(run-1<<r), uint(r))
		n -= run
	}
}

func (s jpegSpec) build() []byte {
	nc := len(s.sampling)
	ids := s.ids
	if ids == nil {
		for i := range nc {
			ids = append(ids, byte(i+1))
		}
	}
	h0, v0 := int(s.sampling[0]>>4), int(s.sampling[0]&15)
	if nc == 1 {
		h0, v0 = 1, 1
	}
	mxx := (s.w + 8*h0 - 1) / (8 * h0)
	myy := (s.h + 8*v0 - 1) / (8 * v0)
	hv := func(c int) (int, int) {
		if nc == 1 {
			return 1, 1
		}
		return int(s.sampling[c] >> 4), int(s.sampling[c] & 15)
	}
	// nonInterleaved counts the blocks image/jpeg visits for one component in a
	// single-component scan: those starting inside the image.
	counts := map[int]int{}
	nonInterleaved := func(c int) int {
		if n, ok := counts[c]; ok {
			return n
		}
		hi, vi := hv(c)
		n := 0
		for by := range myy * vi {
			for bx := range mxx * hi {
				if bx*8 < s.w && by*8 < s.h {
					n++
				}
			}
		}
		counts[c] = n
		return n
	}
	allBlocks := 0
	for c := range nc {
		hi, vi := hv(c)
		allBlocks += mxx * myy * hi * vi
	}

	var out []byte
	seg := func(marker byte, body []byte) {
		out = append(out, 0xFF, marker)
		out = binary.BigEndian.AppendUint16(out, uint16(len(body)+2))
		out = append(out, body...)
	}
	out = append(out, 0xFF, markerSOI)
	if s.adobe != 0 {
		seg(markerAPP14, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, s.adobe - 1})
	}
	seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)) // DQT 0: all ones
	sof := []byte{8, byte(s.h >> 8), byte(s.h), byte(s.w >> 8), byte(s.w), byte(nc)}
	for c := range nc {
		sof = append(sof, ids[c], s.sampling[c], 0)
	}
	if s.progressive {
		seg(markerSOF2, sof)
	} else {
		seg(markerSOF0, sof)
	}
	// DC table 0: only category 0 (no difference), code "0". AC table 0: EOB0 to EOB14,
	// 4-bit codes. AC table 1: only EOB, code "0".
	dht := []byte{0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	dht = append(dht, 0x10, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	for r := range 15 {
		dht = append(dht, byte(r<<4))
	}
	dht = append(dht, 0x11, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00)
	seg(0xC4, dht)

	sos := func(comps []int, table byte, ss, se, ahal byte, data []byte) {
		body := []byte{byte(len(comps))}
		for _, c := range comps {
			body = append(body, ids[c], table)
		}
		seg(markerSOS, append(body, ss, se, ahal))
		out = append(out, data...)
	}
	all := make([]int, nc)
	for c := range nc {
		all[c] = c
	}
	if !s.progressive {
		// Each block: DC category 0 ("0") and EOB ("0", table 1).
		w := &msbWriter{}
		for range allBlocks {
			w.bits(0, 2)
		}
		data := w.flush()
		for range s.scans {
			sos(all, 0x01, 0, 63, 0, data)
		}
	} else {
		// DC first scan, interleaved when there are several components.
		w := &msbWriter{}
		dcBlocks := allBlocks
		if nc == 1 {
			dcBlocks = nonInterleaved(0)
		}
		for range dcBlocks {
			w.bits(0, 1)
		}
		sos(all, 0x00, 0, 0, 0x00, w.flush())
		for k := 1; k < s.scans; k++ {
			c := (k - 1) % nc
			w := &msbWriter{}
			switch {
			case k <= nc: // first AC scan of the component
				w.eobRuns(nonInterleaved(c))
				sos([]int{c}, 0x00, 1, 63, 0x00, w.flush())
			case s.dcRefine: // DC refinement, Ah=1 Al=0: one (zero) bit a block
				n := dcBlocks
				for range n {
					w.bits(0, 1)
				}
				sos(all, 0x00, 0, 0, 0x10, w.flush())
			default: // AC refinement, Ah=1 Al=0
				w.eobRuns(nonInterleaved(c))
				sos([]int{c}, 0x00, 1, 63, 0x10, w.flush())
			}
		}
	}
	return append(out, 0xFF, markerEOI)
}
