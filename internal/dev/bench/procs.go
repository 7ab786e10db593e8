package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ),
// 100 on Linux wherever it can be read (as prometheus/procfs assumes).
const clockTicks = 100

// procCPU returns the CPU time, user and system, that process pid has used,
// from /proc/PID/stat: the process alone, whatever runs beside it.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// parseStatCPU reads utime and stime, the 14th and 15th fields of a
// /proc/PID/stat line. The second field, the command name in parentheses,
// may hold spaces and parentheses: fields are counted after its last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is the 3rd field (state): utime is fields[11], stime fields[12].
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// peakRSS returns the most resident memory process pid has had (VmHWM in
// /proc/PID/status), in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusHWM(data)
}

func parseStatusHWM(status []byte) (int64, error) {
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc status VmHWM: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("/proc status: no VmHWM")
}

// counterValue returns the value of the unlabelled metric name in a
// scrape in the Prometheus text format, and whether it is there.
func counterValue(scrape []byte, name string) (float64, bool) {
	for line := range bytes.Lines(scrape) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok || len(rest) == 0 || rest[0] != ' ' {
			continue
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
		return v, err == nil
	}
	return 0, false
}

// scraper reads one counter of a process's /metrics.
type scraper struct {
	client *http.Client
	url    string
	buf    bytes.Buffer
}

func newScraper(addr string) *scraper {
	return &scraper{client: &http.Client{Timeout: 2 * time.Second}, url: "http://" + addr + "/metrics"}
}

// read scrapes and returns the value of counter name.
func (s *scraper) read(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	s.buf.Reset()
	if _, err := s.buf.ReadFrom(res.Body); err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: %s", s.url, res.Status)
	}
	v, ok := counterValue(s.buf.Bytes(), name)
	if !ok {
		return 0, fmt.Errorf("scrape %s: no %s", s.url, name)
	}
	return v, nil
}

// child is a process the benchmark runs: the broker or a contender. Its
// standard error is kept (the end of it) for failure messages.
type child struct {
	name   string
	cmd    *exec.Cmd
	stderr *tail
	done   chan struct{} // closed when it has exited; err is then set
	err    error
}

// startChild starts binary with args. Its standard output goes to stdout
// (nil: discarded).
func startChild(name, binary string, args []string, stdout io.Writer) (*child, error) {
	c := &child{name: name, cmd: exec.Command(binary, args...), stderr: &tail{max: 8 << 10}, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { // owned by c; joined through c.done
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// failure describes the child's exit, with the end of its standard error.
func (c *child) failure() error {
	return fmt.Errorf("%s exited (%v); the end of its standard error:\n%s", c.name, c.err, c.stderr.String())
}

// stop asks the child to stop (SIGTERM), as a user would, and kills it
// after grace; it returns its exit error.
func (c *child) stop(grace time.Duration) error {
	if c.exited() {
		return c.err
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", c.name, grace)
	}
	return c.err
}

// tail is a writer that keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// firstLine returns the first line r gives, or an error after timeout.
func firstLine(r io.Reader, timeout time.Duration) (string, error) {
	line := make(chan string, 1)
	go func() { // ends when r does; the broker's stdout ends when it exits
		sc := bufio.NewScanner(r)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, r)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			return "", errors.New("no output")
		}
		return l, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no output within %s", timeout)
	}
}
