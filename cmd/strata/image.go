package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratahq/strata/adapters/docker"
)

func newCmdImage(f *factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Build the images Strata's examples run in",
	}
	c.AddCommand(newCmdImageBusybox(f))
	return c
}

func newCmdImageBusybox(f *factory) *cobra.Command {
	var tag, busybox, host string
	c := &cobra.Command{
		Use:   "busybox",
		Short: "Build a tiny image FROM scratch with Debian's busybox-static",
		Long: `Builds an image from nothing but a static busybox binary (sh, awk, sed and the other
applets in /bin, and /tmp), through the local Docker daemon, with no registry. The
examples (examples/quickstart) run in it. Prints the image ID and tag.`,
		Example: `  apt-get install busybox-static
  strata image busybox
  strata image busybox --tag my/busybox:1 --busybox /usr/bin/busybox`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			pctx, cancel := context.WithTimeout(c.Context(), 5*time.Second)
			l, err := docker.Open(pctx, docker.Config{Host: host})
			cancel()
			if err != nil {
				return fmt.Errorf("%w (is dockerd running? `make deps` starts one; --docker-host or DOCKER_HOST name another)", err)
			}
			defer l.Close() //nolint:errcheck // nothing left to flush
			img, err := l.BuildBusybox(c.Context(), tag, busybox)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]string{"id": img.ID, "tag": img.Tag})
			}
			_, err = fmt.Fprintf(f.Out, "%s %s\n", img.ID, img.Tag)
			return err
		},
	}
	c.Flags().StringVar(&tag, "tag", docker.BusyboxTag, "the image's tag")
	c.Flags().StringVar(&busybox, "busybox", docker.BusyboxPath, "the static busybox binary to build from")
	c.Flags().StringVar(&host, "docker-host", "", "the Docker daemon's address (default: DOCKER_HOST, else the local socket)")
	return c
}
