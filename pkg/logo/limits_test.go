package logo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/convrs/admin/pkg/problem"
)

// wantInvalid fails unless err is a problem.Invalid on field "logo" with message want.
func wantInvalid(t testing.TB, err error, want string) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("got error %v (%T), want a *problem.Error", err, err)
	}
	if pe.Code != problem.Invalid {
		t.Fatalf("got code %q, want %q (%v)", pe.Code, problem.Invalid, err)
	}
	if len(pe.Fields) != 1 || pe.Fields[0].Field != field || pe.Fields[0].Message != want {
		t.Fatalf("got fields %+v, want [{logo %q}]", pe.Fields, want)
	}
}

// wantCode fails unless err is a *problem.Error with the given code.
func wantCode(t testing.TB, err error, want problem.Code) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("got error %v (%T), want a *problem.Error", err, err)
	}
	if pe.Code != want {
		t.Fatalf("got code %q, want %q (%v)", pe.Code, want, err)
	}
}

func tooBig(mib int) string {
	return fmt.Sprintf("image would need %d MiB to decode; at most 48 MiB", mib)
}

var (
	dimensionMessage = fmt.Sprintf("image must be at most %dx%d pixels", MaxDimension, MaxDimension)
	progressiveScans = fmt.Sprintf("JPEG image has more than %d scans", MaxScans)
)

// Layouts of the JPEGs below.
var (
	grey = []byte{0x11}
	s420 = []byte{0x22, 0x11, 0x11}
	s444 = []byte{0x11, 0x11, 0x11}
	cmyk = []byte{0x11, 0x11, 0x11, 0x11}
)

// bomb is a hostile input and what Inspect must answer, cheaply.
type bomb struct {
	name    string
	data    []byte
	message string
}

// bombs are the inputs of the security review, rebuilt, and their neighbours under
// the new limits. Each was accepted, or refused only after a large allocation or long
// decode, before the decoder memory, dimension and scan limits.
func bombs() []bomb {
	rgba16 := func(w, h int, truncate int) []byte {
		return pngSpec{w: w, h: h, colorType: 6, depth: 16, interlaced: true, truncate: truncate}.build()
	}
	return []bomb{
		// 130 KB, 256 MiB of pixels plus as much again of pass images.
		{"4096x4096 16-bit RGBA interlaced PNG", rgba16(4096, 4096, 0), dimensionMessage},
		// 65 KB; png.Decode allocated the whole image before finding the data short.
		{"truncated 4096x4096 16-bit PNG", rgba16(4096, 4096, 65000), dimensionMessage},
		// Within MaxDimension, over MaxDecodeBytes: 32 MiB image + 32 MiB of passes.
		{"2048x2048 16-bit RGBA interlaced PNG", rgba16(2048, 2048, 0), tooBig(65)},
		{"truncated 2048x2048 16-bit PNG", rgba16(2048, 2048, 20000), tooBig(65)},
		{"2048x2048 grey 16-bit interlaced PNG with tRNS (decodes to NRGBA64)",
			pngSpec{w: 2048, h: 2048, colorType: 0, depth: 16, interlaced: true, trns: true}.build(), tooBig(65)},
		{"4096x4096 progressive JPEG", jpegSpec{w: 4096, h: 4096, sampling: s444, progressive: true, scans: 10}.build(), dimensionMessage},
		// int32 coefficients for every block: 48 MiB, plus 12 MiB of samples.
		{"2048x2048 4:4:4 progressive JPEG", jpegSpec{w: 2048, h: 2048, sampling: s444, progressive: true, scans: 10}.build(), tooBig(61)},
		{"2048x2048 CMYK progressive JPEG", jpegSpec{w: 2048, h: 2048, sampling: cmyk, progressive: true, scans: 5, adobe: 1}.build(), tooBig(97)},
		// The CPU bomb: 1,000 scans of a 4096x4096 image took 40 s; these are refused
		// before decoding by the scan limit, whatever the size.
		{"1000-scan progressive JPEG", jpegSpec{w: 2048, h: 2048, sampling: grey, progressive: true, scans: 1000}.build(), progressiveScans},
		{"33-scan progressive JPEG", jpegSpec{w: 64, h: 64, sampling: s420, progressive: true, scans: MaxScans + 1}.build(), progressiveScans},
		{"sequential JPEG repeating its scan", jpegSpec{w: 2048, h: 2048, sampling: s420, scans: 32}.build(),
			"sequential JPEG image codes its 3 colour components more than once"},
		{"sequential grey JPEG with two scans", jpegSpec{w: 8, h: 8, sampling: grey, scans: 2}.build(),
			"sequential JPEG image codes its 1 colour components more than once"},
	}
}

// TestBombsRefusedCheaply checks that each hostile input is refused with a 422 that
// says why, having allocated under 8 MiB (the bombs allocated 128 MiB to 260 MB).
func TestBombsRefusedCheaply(t *testing.T) {
	for _, b := range bombs() {
		t.Run(b.name, func(t *testing.T) {
			var err error
			u := measure(func() { _, err = Inspect(context.Background(), b.data) })
			wantInvalid(t, err, b.message)
			t.Logf("%d bytes: refused after %.3f MiB allocated, %v CPU", len(b.data), u.allocMiB(), u.cpu)
			if u.alloc > 8*mib {
				t.Errorf("allocated %.1f MiB before refusing, want < 8 MiB", u.allocMiB())
			}
			if u.cpu > 250*time.Millisecond {
				t.Errorf("took %v of CPU to refuse, want < 250ms", u.cpu)
			}
		})
	}
}

// accepted is an image the limits admit, built on demand.
type accepted struct {
	name  string
	build func() []byte
}

// worstPNG is the largest 16-bit RGBA interlaced PNG accepted, the PNG that costs the
// decoder the most memory: 2048 wide and as tall as MaxDecodeBytes allows.
func worstPNG(tb testing.TB) (accepted, int) {
	tb.Helper()
	spec := func(h int) pngSpec { return pngSpec{w: 2048, h: h, colorType: 6, depth: 16, interlaced: true} }
	h := tallestAccepted(tb, func(h int) []byte { return spec(h).build() })
	return accepted{fmt.Sprintf("PNG 2048x%d 16-bit RGBA interlaced", h), func() []byte { return spec(h).build() }}, h
}

// worstJPEGs are the costliest JPEGs accepted: in memory, the 4:4:4 progressive one of
// largest size (int32 coefficients for three full-resolution components); in CPU time,
// progressive images of the largest accepted sizes with MaxScans scans of the kinds
// that cost the most per byte (refinement scans made of end-of-band runs), and the
// largest sequential ones.
func worstJPEGs(tb testing.TB) []accepted {
	tb.Helper()
	var out []accepted
	add := func(name string, spec jpegSpec, grow bool) {
		if grow {
			spec.h = tallestAccepted(tb, func(h int) []byte { s := spec; s.h = h; return s.build() })
		}
		out = append(out, accepted{fmt.Sprintf("JPEG %dx%d %s", spec.w, spec.h, name), spec.build})
	}
	add("4:4:4 progressive, 32 scans, DC refinements", jpegSpec{w: 2048, sampling: s444, progressive: true, scans: MaxScans, dcRefine: true}, true)
	add("4:4:4 progressive, 32 scans, AC refinements", jpegSpec{w: 2048, sampling: s444, progressive: true, scans: MaxScans}, true)
	add("4:4:4 RGB progressive, 32 scans, DC refinements", jpegSpec{w: 2048, sampling: s444, ids: []byte("RGB"), progressive: true, scans: MaxScans, dcRefine: true}, true)
	add("4:2:0 progressive, 32 scans, DC refinements", jpegSpec{w: 2048, h: 2048, sampling: s420, progressive: true, scans: MaxScans, dcRefine: true}, false)
	add("grey progressive, 32 scans, AC refinements", jpegSpec{w: 2048, h: 2048, sampling: grey, progressive: true, scans: MaxScans}, false)
	add("CMYK sequential", jpegSpec{w: 2048, h: 2048, sampling: cmyk, scans: 1, adobe: 1}, false)
	add("4:4:4 sequential", jpegSpec{w: 2048, h: 2048, sampling: s444, scans: 1}, false)
	return out
}

// tallestAccepted returns the largest height up to MaxDimension at which build's image
// is within MaxDecodeBytes, by the estimate, found by bisection.
func tallestAccepted(tb testing.TB, build func(h int) []byte) int {
	tb.Helper()
	fits := func(h int) bool {
		data := build(h)
		f, ok := sniff(data)
		if !ok {
			tb.Fatal("built image not recognised")
		}
		cfg, err := f.decodeConfig(bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		cost, perr := f.cost(data, cfg, defaultLimits)
		if perr != nil {
			tb.Fatal(perr)
		}
		return cost <= MaxDecodeBytes
	}
	lo, hi := 1, MaxDimension // fits(lo); the answer is in [lo, hi]
	if !fits(lo) {
		tb.Fatal("not even one row fits")
	}
	if fits(hi) {
		return hi
	}
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// TestWorstAcceptedAllocation decodes the largest accepted 16-bit interlaced PNG and
// progressive JPEG and checks that the decode allocated no more than MaxDecodeBytes
// (with a 2% margin for the decoder's fixed buffers), so that a regression in the
// estimate or a change in the decoders is caught. One row taller is refused.
func TestWorstAcceptedAllocation(t *testing.T) {
	png, h := worstPNG(t)
	cases := append([]accepted{png}, worstJPEGs(t)[:3]...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.build()
			var err error
			u := measure(func() { _, err = Inspect(context.Background(), data) })
			if err != nil {
				t.Fatalf("Inspect: got %v, want it accepted", err)
			}
			t.Logf("%d bytes: %.2f MiB allocated, peak heap %.2f MiB, %v CPU", len(data), u.allocMiB(), u.peakMiB(), u.cpu)
			if limit := uint64(MaxDecodeBytes * 102 / 100); u.alloc > limit {
				t.Errorf("allocated %.2f MiB, want at most %.2f MiB", u.allocMiB(), float64(limit)/mib)
			}
		})
	}
	// One row more is over the budget.
	taller := pngSpec{w: 2048, h: h + 1, colorType: 6, depth: 16, interlaced: true}.build()
	_, err := Inspect(context.Background(), taller)
	wantInvalid(t, err, tooBig(49))
}

// TestDecodeCostCoversAllocation checks the estimate against what the decoders really
// allocate, across colour models, bit depths, interlacing, transparency, subsampling
// and colour conversions: the estimate must cover the allocation, and, where it is
// meant to be exact, not exceed it by more than 5% plus the fixed allowance.
func TestDecodeCostCoversAllocation(t *testing.T) {
	enc := func(f func(*bytes.Buffer) error) []byte {
		var buf bytes.Buffer
		if err := f(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	palette := image.NewPaletted(image.Rect(0, 0, 1000, 700), color.Palette{color.Black, color.White})
	tests := []struct {
		name  string
		data  []byte
		exact bool
	}{
		{"png grey 8", pngSpec{w: 1000, h: 700, colorType: 0, depth: 8}.build(), true},
		{"png grey 8 tRNS", pngSpec{w: 1000, h: 700, colorType: 0, depth: 8, trns: true}.build(), true},
		{"png grey 1", pngSpec{w: 1000, h: 700, colorType: 0, depth: 1}.build(), true},
		{"png grey 16 interlaced", pngSpec{w: 1000, h: 700, colorType: 0, depth: 16, interlaced: true}.build(), true},
		{"png grey 16 tRNS interlaced", pngSpec{w: 1000, h: 700, colorType: 0, depth: 16, interlaced: true, trns: true}.build(), true},
		{"png grey+alpha 16", pngSpec{w: 1000, h: 700, colorType: 4, depth: 16}.build(), true},
		{"png RGB 8", pngSpec{w: 1000, h: 700, colorType: 2, depth: 8}.build(), true},
		{"png RGB 16 tRNS interlaced", pngSpec{w: 1000, h: 700, colorType: 2, depth: 16, trns: true, interlaced: true}.build(), true},
		{"png RGBA 8 interlaced", pngSpec{w: 1000, h: 700, colorType: 6, depth: 8, interlaced: true}.build(), true},
		{"png RGBA 16", pngSpec{w: 1000, h: 700, colorType: 6, depth: 16}.build(), true},
		{"png palette 8 tRNS interlaced", pngSpec{w: 1000, h: 700, colorType: 3, depth: 8, trns: true, interlaced: true}.build(), true},
		{"png odd size interlaced", pngSpec{w: 3, h: 1, colorType: 6, depth: 16, interlaced: true}.build(), false},
		{"jpeg grey sequential", jpegSpec{w: 1000, h: 700, sampling: grey, scans: 1}.build(), true},
		{"jpeg 4:2:0 sequential odd size", jpegSpec{w: 999, h: 701, sampling: s420, scans: 1}.build(), true},
		{"jpeg 4:2:0 progressive", jpegSpec{w: 1000, h: 700, sampling: s420, progressive: true, scans: 10}.build(), true},
		{"jpeg 4:2:2 progressive", jpegSpec{w: 1000, h: 700, sampling: []byte{0x21, 0x11, 0x11}, progressive: true, scans: 10}.build(), true},
		{"jpeg 4:4:4 RGB ids sequential", jpegSpec{w: 1000, h: 700, sampling: s444, ids: []byte("RGB"), scans: 1}.build(), true},
		{"jpeg Adobe RGB progressive", jpegSpec{w: 1000, h: 700, sampling: s444, adobe: 1, progressive: true, scans: 4}.build(), true},
		{"jpeg Adobe YCbCr sequential", jpegSpec{w: 1000, h: 700, sampling: s420, adobe: 2, scans: 1}.build(), true},
		{"jpeg CMYK progressive", jpegSpec{w: 1000, h: 700, sampling: cmyk, adobe: 1, progressive: true, scans: 5}.build(), true},
		{"jpeg YCbCrK sequential", jpegSpec{w: 1000, h: 700, sampling: []byte{0x22, 0x11, 0x11, 0x22}, adobe: 3, scans: 1}.build(), true},
		{"jpeg standard encoder", enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, testImage(1000, 700), nil) }), true},
		{"gif", enc(func(b *bytes.Buffer) error { return gif.Encode(b, palette, nil) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := sniff(tt.data)
			cfg, err := f.decodeConfig(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			cost, perr := f.cost(tt.data, cfg, defaultLimits)
			if perr != nil {
				t.Fatal(perr)
			}
			u := measure(func() { _, err = Inspect(context.Background(), tt.data) })
			if err != nil {
				t.Fatalf("Inspect: got %v, want it accepted", err)
			}
			if u.alloc > uint64(cost) {
				t.Errorf("allocated %d bytes, estimated %d: got an estimate short by %d", u.alloc, cost, u.alloc-uint64(cost))
			}
			if tt.exact && uint64(cost) > u.alloc*105/100+64<<10 {
				t.Errorf("estimated %d bytes, allocated %d: got an estimate %.0f%% over", cost, u.alloc, 100*(float64(cost)/float64(u.alloc)-1))
			}
		})
	}
}

// TestTooManyScansRefusedQuickly checks that the scan limits hold exactly at their
// edge and that refusing costs next to nothing even for a 2048x2048 image.
func TestTooManyScansRefusedQuickly(t *testing.T) {
	tests := []struct {
		name    string
		spec    jpegSpec
		message string // "" when accepted
	}{
		{"progressive, MaxScans", jpegSpec{w: 64, h: 48, sampling: s420, progressive: true, scans: MaxScans}, ""},
		{"progressive, MaxScans+1", jpegSpec{w: 64, h: 48, sampling: s420, progressive: true, scans: MaxScans + 1}, progressiveScans},
		{"progressive 2048x2048, 5000 scans", jpegSpec{w: 2048, h: 2048, sampling: grey, progressive: true, scans: 5000}, progressiveScans},
		{"sequential 4:2:0, 1 scan", jpegSpec{w: 64, h: 48, sampling: s420, scans: 1}, ""},
		{"sequential 4:2:0, 2 scans", jpegSpec{w: 64, h: 48, sampling: s420, scans: 2}, "sequential JPEG image codes its 3 colour components more than once"},
		{"sequential CMYK, 2 scans", jpegSpec{w: 64, h: 48, sampling: cmyk, adobe: 1, scans: 2}, "sequential JPEG image codes its 4 colour components more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.spec.build()
			var err error
			u := measure(func() { _, err = Inspect(context.Background(), data) })
			if tt.message == "" {
				if err != nil {
					t.Fatalf("Inspect: got %v, want it accepted", err)
				}
				return
			}
			wantInvalid(t, err, tt.message)
			if u.cpu > 100*time.Millisecond {
				t.Errorf("took %v of CPU to refuse, want < 100ms", u.cpu)
			}
		})
	}
}

// slowJPEG is a 2048x2048 progressive JPEG with 3,000 AC refinement scans, which the
// scan limit refuses; under a raised limit it takes image/jpeg tens of seconds.
func slowJPEG() []byte {
	return jpegSpec{w: 2048, h: 2048, sampling: grey, progressive: true, scans: 3000}.build()
}

// TestExpiredContextStopsDecode checks that a decode under a context that expires stops
// soon after: the image would take tens of seconds, the deadline is 5 ms.
func TestExpiredContextStopsDecode(t *testing.T) {
	data := slowJPEG()
	raised := limits{scans: 1 << 20}
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 5*time.Millisecond)
		}},
		{"cancelled during the decode", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(5*time.Millisecond, cancel)
			return ctx, cancel
		}},
		{"cancelled before", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			info, err := inspect(ctx, data, raised)
			elapsed := time.Since(start)
			wantCode(t, err, problem.Unavailable)
			if !errors.Is(err, ctx.Err()) {
				t.Errorf("got error %v, want it to wrap %v", err, ctx.Err())
			}
			if info != (Info{}) {
				t.Errorf("got Info %+v on error, want zero", info)
			}
			t.Logf("returned after %v", elapsed)
			if elapsed > 500*time.Millisecond {
				t.Errorf("returned after %v, want well under a second", elapsed)
			}
			if used, _, _ := decodeMemory.state(); used != 0 {
				t.Errorf("got %d bytes of decoder memory still held, want 0", used)
			}
		})
	}
}

// TestAbandonedWhileWaitingForMemory checks that a request waiting for decoder memory
// gives up when its context ends, holding nothing, and that the others proceed.
func TestAbandonedWhileWaitingForMemory(t *testing.T) {
	data := pngSpec{w: 100, h: 100, colorType: 6, depth: 8}.build()
	if err := decodeMemory.acquire(context.Background(), MaxDecodeBytes); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := Inspect(ctx, data)
	wantCode(t, err, problem.Unavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want it to wrap context.DeadlineExceeded", err)
	}
	if _, _, waiting := decodeMemory.state(); waiting != 0 {
		t.Errorf("got %d waiters after the request gave up, want 0", waiting)
	}
	done := make(chan error)
	go func() { _, err := Inspect(context.Background(), data); done <- err }()
	time.Sleep(10 * time.Millisecond)
	decodeMemory.release(MaxDecodeBytes)
	if err := <-done; err != nil {
		t.Errorf("after release: got %v, want it accepted", err)
	}
	if used, _, _ := decodeMemory.state(); used != 0 {
		t.Errorf("got %d bytes of decoder memory held, want 0", used)
	}
}

// TestConcurrentInspectsShareDecodeMemory runs 6 decodes of a 32 MiB image at once:
// without the process-wide budget they would hold 6 x 32 MiB at the same time (the
// local server reached 2.1 GB with 8 uploads this way); with it they run one after
// another, and the heap stays within a small multiple of MaxDecodeBytes (garbage
// awaiting collection included).
func TestConcurrentInspectsShareDecodeMemory(t *testing.T) {
	data := pngSpec{w: 2048, h: 1024, colorType: 6, depth: 16, interlaced: true}.build()
	const n = 6
	decodeMemory.mu.Lock()
	decodeMemory.peak = decodeMemory.used
	decodeMemory.mu.Unlock()
	errs := make([]error, n)
	u := measure(func() {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = Inspect(context.Background(), data)
			})
		}
		close(start)
		wg.Wait()
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("upload %d: got %v, want it accepted", i, err)
		}
	}
	_, peak, _ := decodeMemory.state()
	t.Logf("%d concurrent: %.1f MiB allocated, peak heap %.1f MiB, most decoder memory held at once %.1f MiB",
		n, u.allocMiB(), u.peakMiB(), float64(peak)/mib)
	if peak < 32*mib || peak > MaxDecodeBytes {
		t.Errorf("decoders held at most %d bytes at once, want between 32 MiB (one decode) and %d", peak, MaxDecodeBytes)
	}
	if limit := uint64(3 * MaxDecodeBytes); u.peakHeap > limit {
		t.Errorf("heap peaked at %.1f MiB, want under %.0f MiB", u.peakMiB(), float64(limit)/mib)
	}
}

// BenchmarkWorstPNG reports the decoder memory and CPU time of the PNG that costs the
// decoder the most memory.
func BenchmarkWorstPNG(b *testing.B) {
	png, _ := worstPNG(b)
	benchmarkInspect(b, png.build())
}

// BenchmarkWorstJPEG reports the decoder memory and CPU time of the costliest accepted
// JPEGs; the CPU figure of the slowest is the bound that MaxScans buys.
func BenchmarkWorstJPEG(b *testing.B) {
	for _, j := range worstJPEGs(b) {
		b.Run(j.name, func(b *testing.B) { benchmarkInspect(b, j.build()) })
	}
}

func benchmarkInspect(b *testing.B, data []byte) {
	b.Helper()
	ctx := context.Background()
	var total usage
	peaks := make([]float64, 0, b.N)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		u := measure(func() { _, err = Inspect(ctx, data) })
		if err != nil {
			b.Fatalf("Inspect: got %v, want it accepted", err)
		}
		total.alloc += u.alloc
		total.cpu += u.cpu
		peaks = append(peaks, u.peakMiB())
	}
	sort.Float64s(peaks)
	n := float64(len(peaks))
	b.ReportMetric(float64(total.alloc)/mib/n, "MiB-alloc/op")
	b.ReportMetric(peaks[len(peaks)-1], "MiB-peak-heap")
	b.ReportMetric(float64(total.cpu.Milliseconds())/n, "ms-cpu/op")
}
