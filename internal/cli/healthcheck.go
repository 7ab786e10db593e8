package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

const healthcheckExamples = `
  flagstream healthcheck
  flagstream healthcheck --url http://10.0.0.7:9464/healthz --timeout 1s

  # In a Dockerfile
  HEALTHCHECK CMD ["/usr/local/bin/flagstream", "healthcheck"]`

func newHealthcheckCommand(env *Env) *cobra.Command {
	var (
		url     string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL] [--timeout DURATION]",
		Short: "exit 0 if a running flagstream's /healthz answers (for a container HEALTHCHECK)",
		Long: `
Healthcheck asks a running flagstream's admin server whether it is alive, for
a container HEALTHCHECK. It prints "ok" and exits 0 when it is, 1 when not.`,
		Example: healthcheckExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "url", "http://127.0.0.1:9464/healthz", "ask the health endpoint at `URL`")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return usagef("healthcheck: %v", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
		}
		fmt.Fprintln(env.Stdout, "ok")
		return nil
	})
	return cmd
}
