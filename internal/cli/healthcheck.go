package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

func healthcheckCommand(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "healthcheck", "healthcheck [--url URL]",
		"Healthcheck asks a running flagstream's admin server whether it is alive, for a\ncontainer HEALTHCHECK. It exits 0 when it is, 1 when not.")
	url := fs.String("url", "http://127.0.0.1:9464/healthz", "health endpoint to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usagef("healthcheck: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(env.Stdout, "ok")
	return nil
}
