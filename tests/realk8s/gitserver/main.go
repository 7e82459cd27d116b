// Command gitserver serves a folder of Git repositories over HTTP for the real Flux
// controllers in rekon's tests (github.com/fluxcd/pkg/gittestserver). A push to a repository
// that does not exist yet creates it.
//
// It prints one ready line, `gitserver: serving <root> on http://127.0.0.1:PORT`, and stops on
// SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fluxcd/pkg/gittestserver"
)

func main() {
	root := flag.String("root", "", "folder of bare repositories (<name>.git) to serve")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "gitserver: --root is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "gitserver: --root %s: %v\n", *root, err)
		os.Exit(1)
	}
	server := gittestserver.NewGitServer(*root).AutoCreate()
	if err := server.StartHTTP(); err != nil {
		fmt.Fprintf(os.Stderr, "gitserver: %v\n", err)
		os.Exit(1)
	}
	defer server.StopHTTP()
	fmt.Printf("gitserver: serving %s on %s\n", server.Root(), server.HTTPAddress())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
}
