package cli

import (
	"context"
	"errors"
)

var errPending = errors.New("not built yet")

func runCommand(context.Context, *Env, []string) error         { return errPending }
func demoCommand(context.Context, *Env, []string) error        { return errPending }
func brokerCommand(context.Context, *Env, []string) error      { return errPending }
func healthcheckCommand(context.Context, *Env, []string) error { return errPending }
