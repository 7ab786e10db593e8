// Package admin serves flagstream's admin HTTP endpoints: /metrics for
// Prometheus, /healthz (the process is alive), /readyz (it is doing its
// job: lists loaded, consumer group joined, not shutting down),
// POST /-/reload (reload the lists now), GET /-/demands and
// POST /-/demands/{id}/reset (the demands' circuit breakers) and, when
// asked for, Go's profiler under /debug/pprof/.
//
// Some endpoints change state, so the listener is secured the way
// Prometheus exporters are: a web config file (exporter-toolkit's format:
// TLS, client certificates, bcrypt basic auth) applies to every endpoint.
// Without one the listener should stay on loopback, its default; Start
// warns when it does not.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// Config wires the endpoints to the rest of the program.
type Config struct {
	Listen   string
	Gatherer prometheus.Gatherer
	// Ready returns nil when the program is ready, else why not.
	Ready func() error
	// Reload reloads the lists and returns the new lists version.
	Reload func() (version string, err error)
	// Demands returns the state of every demand's circuit breaker, for
	// GET /-/demands; ResetDemand resets one, for
	// POST /-/demands/{id}/reset, and returns its state, or false when no
	// demand has that id. Either may be nil (501).
	Demands     func() any
	ResetDemand func(id string) (state any, ok bool)
	// Pprof serves net/http/pprof's handlers under /debug/pprof/.
	Pprof bool
	// WebConfigFile, when set, is exporter-toolkit's web configuration
	// (TLS, client certificates, basic auth) of every endpoint.
	WebConfigFile string
	Logger        *slog.Logger
}

// Server is a running admin server.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	log  *slog.Logger
	done chan struct{} // closed when the serving goroutine returns
}

// ErrWebConfig marks a web config file that Start cannot use.
var ErrWebConfig = errors.New("http.web_config_file")

// Start listens on cfg.Listen and serves in the background until Shutdown.
// A web config file that cannot be read or is invalid (a missing
// certificate, a password that is not a bcrypt hash) fails it.
func Start(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.WebConfigFile != "" {
		if err := web.Validate(cfg.WebConfigFile); err != nil {
			return nil, fmt.Errorf("admin listener: %w %s: %w", ErrWebConfig, cfg.WebConfigFile, err)
		}
	} else if !loopback(cfg.Listen) {
		log.Warn("the admin listener is not on loopback and has no http.web_config_file: anyone who reaches it can read /metrics and reload the lists or reset circuit breakers; set http.web_config_file (TLS, basic auth) or listen on 127.0.0.1",
			"listen", cfg.Listen)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.Ready != nil {
			if err := cfg.Ready(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "not ready: %v\n", err)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if cfg.Reload == nil {
			w.WriteHeader(http.StatusNotImplemented)
			json.NewEncoder(w).Encode(map[string]string{"error": "reload is not available"})
			return
		}
		version, err := cfg.Reload()
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"lists_version": version})
	})
	mux.HandleFunc("GET /-/demands", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Demands == nil {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "circuit breakers are not available"})
			return
		}
		writeJSON(w, http.StatusOK, cfg.Demands())
	})
	mux.HandleFunc("POST /-/demands/{id}/reset", func(w http.ResponseWriter, r *http.Request) {
		if cfg.ResetDemand == nil {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "circuit breakers are not available"})
			return
		}
		id := r.PathValue("id")
		state, ok := cfg.ResetDemand(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no demand has the id %q", id)})
			return
		}
		log.Info("circuit breaker reset", "demand", id, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, state)
	})
	if cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	// Only "/" itself: any other path is 404, and a known path with the
	// wrong method 405 (with an Allow header).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "flagstream admin: /metrics /healthz /readyz POST /-/reload /-/demands POST /-/demands/{id}/reset")
		if cfg.Pprof {
			fmt.Fprint(w, " /debug/pprof/")
		}
		fmt.Fprintln(w)
	})
	s := &Server{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
		},
		ln:   ln,
		log:  log,
		done: make(chan struct{}),
	}
	go func() { // owned by Server; Shutdown ends and joins it
		defer close(s.done)
		var err error
		if cfg.WebConfigFile != "" {
			// exporter-toolkit wraps the handler in its basic auth
			// and serves TLS when the file asks for it.
			err = web.Serve(ln, s.srv, &web.FlagConfig{WebConfigFile: &cfg.WebConfigFile}, log)
		} else {
			err = s.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server stopped", "err", err)
		}
	}()
	return s, nil
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// loopback reports whether the listen address host:port only takes
// connections from this machine: a loopback IP or localhost. An empty
// host (every interface) is not.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops the server, letting requests in progress finish, and
// waits for its goroutine to end.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	select {
	case <-s.done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}
