package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

const healthcheckExamples = `
  flagstream healthcheck
  flagstream healthcheck --url http://10.0.0.7:9464/healthz --timeout 1s

  # In a Dockerfile
  HEALTHCHECK CMD ["/usr/local/bin/flagstream", "healthcheck"]

  # An admin listener secured by http.web_config_file (TLS and basic auth)
  flagstream healthcheck --url https://127.0.0.1:9464/healthz --ca-file ca.crt --user probe --password-file /run/secrets/probe`

func newHealthcheckCommand(env *Env) *cobra.Command {
	var (
		url, user, passwordFile, caFile string
		timeout                         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL] [--timeout DURATION]",
		Short: "exit 0 if a running flagstream's /healthz answers (for a container HEALTHCHECK)",
		Long: `
Healthcheck asks a running flagstream's admin server whether it is alive, for
a container HEALTHCHECK. It prints "ok" and exits 0 when it is, 1 when not.
When the admin listener has a web config (http.web_config_file), every
endpoint needs its basic auth and TLS: give --user and --password-file, and
--ca-file for a certificate that the system does not trust.`,
		Example: healthcheckExamples,
		Args:    noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "url", "http://127.0.0.1:9464/healthz", "ask the health endpoint at `URL`")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	fs.StringVar(&user, "user", "", "basic auth user `NAME` (with --password-file)")
	fs.StringVar(&passwordFile, "password-file", "", "read the basic auth password from `FILE`")
	fs.StringVar(&caFile, "ca-file", "", "trust the admin listener's certificate if signed by the CA in `FILE` (PEM)")
	cmd.MarkFlagFilename("password-file")
	cmd.MarkFlagFilename("ca-file")
	cmd.RunE = runE(func(ctx context.Context, _ []string) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return usagef("healthcheck: %v", err)
		}
		if (user == "") != (passwordFile == "") {
			return usagef("healthcheck: --user and --password-file go together")
		}
		if user != "" {
			pw, err := os.ReadFile(passwordFile)
			if err != nil {
				return inputError(fmt.Errorf("healthcheck: --password-file: %w", err))
			}
			req.SetBasicAuth(user, strings.TrimRight(string(pw), "\r\n"))
		}
		client := http.DefaultClient
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return inputError(fmt.Errorf("healthcheck: --ca-file: %w", err))
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return inputError(fmt.Errorf("healthcheck: --ca-file %s holds no PEM certificate", caFile))
			}
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		}
		resp, err := client.Do(req)
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
