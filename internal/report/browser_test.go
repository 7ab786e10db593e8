package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// chromium returns the path of Debian's chromium. Without it the browser
// tests skip, unless FLAGSTREAM_REQUIRE_BROWSER is set (CI sets it, so CI
// can never skip them silently).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FLAGSTREAM_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium is not installed and FLAGSTREAM_REQUIRE_BROWSER is set (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); set FLAGSTREAM_REQUIRE_BROWSER=1 to fail instead")
	return ""
}

// runChromium runs headless chromium on the page with extra flags and
// returns its standard output.
func runChromium(t *testing.T, bin, page string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
	}, flags...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(flags, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestBrowser renders the HTML report in headless chromium: a screenshot
// that is not blank and shows the charts' colours, the DOM after loading
// with a table per demand and the SVG charts' bars, and a PDF print of
// several pages. FLAGSTREAM_BROWSER_OUT=DIR keeps the page, screenshot
// and PDF there to look at.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	r := buildFixture(t, Options{})
	dir := t.TempDir()
	if out := os.Getenv("FLAGSTREAM_BROWSER_OUT"); out != "" {
		dir = out
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := Render(&page, r, FormatHTML); err != nil {
		t.Fatal(err)
	}
	pagePath := filepath.Join(dir, "report.html")
	if err := os.WriteFile(pagePath, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		runChromium(t, bin, pagePath, "--window-size=1100,2600", "--screenshot="+shot)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		st := pixelStats(img)
		t.Logf("screenshot %v: %d colours, %.1f%% not white, %d withheld-orange, %d live-blue pixels",
			img.Bounds().Size(), st.colours, 100*st.inked, st.orange, st.blue)
		if st.colours < 32 || st.inked < 0.03 {
			t.Errorf("screenshot looks blank: %d colours, %.1f%% not white", st.colours, 100*st.inked)
		}
		// The withheld segments (#d55e00) are drawn only by the SVG charts.
		if st.orange < 200 {
			t.Errorf("%d pixels of the withheld colour: the outcome charts did not render", st.orange)
		}
		if st.blue < 200 {
			t.Errorf("%d pixels of the live colour: the per-day chart did not render", st.blue)
		}
	})

	t.Run("dom", func(t *testing.T) {
		dom := runChromium(t, bin, pagePath, "--dump-dom")
		doc, err := html.Parse(bytes.NewReader(dom))
		if err != nil {
			t.Fatal(err)
		}
		var sections, tables, svgs, bars int
		var headings []string
		for n := range doc.Descendants() {
			switch {
			case n.DataAtom == atom.Section && attr(n, "class") == "demand":
				sections++
				for m := range n.Descendants() {
					if m.DataAtom == atom.Table {
						tables++
					}
					if m.DataAtom == atom.H3 && m.FirstChild != nil {
						headings = append(headings, m.FirstChild.Data)
					}
				}
			case n.Type == html.ElementNode && n.Data == "svg":
				svgs++
			case n.Type == html.ElementNode && n.Data == "rect" && attr(n, "class") == "bar":
				bars++
			}
		}
		if sections != len(r.Demands) || tables != 3*len(r.Demands) {
			t.Errorf("rendered %d demand sections with %d tables, want %d with 3 each", sections, tables, len(r.Demands))
		}
		for _, d := range r.Demands {
			found := false
			for _, h := range headings {
				found = found || h == d.ID
			}
			if !found {
				t.Errorf("no heading for demand %s in %q", d.ID, headings)
			}
		}
		if svgs != 3 || bars < 20 {
			t.Errorf("rendered %d svg charts with %d bars, want 3 charts with bars", svgs, bars)
		}
		if !bytes.Contains(dom, []byte("Bundeskriminalamt &lt;img src=x")) {
			t.Error("DE-BKA's authority not rendered as escaped text")
		}
	})

	t.Run("print", func(t *testing.T) {
		pdf := filepath.Join(dir, "report.pdf")
		runChromium(t, bin, pagePath, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
		b, err := os.ReadFile(pdf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
		}
		pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
		t.Logf("PDF: %d bytes, %d pages", len(b), pages)
		if pages < 2 {
			t.Errorf("PDF has %d pages, want the summary, charts and demands on two or more", pages)
		}
	})
}

type stats struct {
	colours      int
	inked        float64 // share of pixels that are not white
	orange, blue int     // pixels near the withheld and live colours
}

func pixelStats(img image.Image) stats {
	var st stats
	seen := map[uint32]bool{}
	b := img.Bounds()
	var inked int
	near := func(r, g, bl, R, G, B uint32) bool {
		d := func(a, b uint32) uint32 {
			if a > b {
				return a - b
			}
			return b - a
		}
		return d(r, R) < 12 && d(g, G) < 12 && d(bl, B) < 12
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			seen[r<<16|g<<8|bl] = true
			if r < 250 || g < 250 || bl < 250 {
				inked++
			}
			if near(r, g, bl, 0xd5, 0x5e, 0x00) {
				st.orange++
			}
			if near(r, g, bl, 0x00, 0x72, 0xb2) {
				st.blue++
			}
		}
	}
	st.colours = len(seen)
	st.inked = float64(inked) / float64(b.Dx()*b.Dy())
	return st
}
