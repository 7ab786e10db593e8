// Command flagstream matches tweets against the accounts, hashtags, phrases
// and domains named in legal demands and emits review tasks; see README.md.
//
// main only turns signals into a context and the result into an exit code:
// SIGINT or SIGTERM stops gracefully (a second one exits at once), SIGHUP
// asks for the lists to be reloaded.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"flagstream/internal/cli"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		cancel()
		<-stop
		fmt.Fprintln(os.Stderr, "flagstream: second signal, exiting at once")
		os.Exit(130)
	}()
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	os.Exit(cli.Main(ctx, os.Args[1:], &cli.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Reload: reload,
	}))
}
