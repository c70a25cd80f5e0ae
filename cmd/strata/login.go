package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newCmdLogin(f *factory) *cobra.Command {
	a := &apiFlags{}
	var (
		token     string
		withToken bool
	)
	c := &cobra.Command{
		Use:   "login [--server URL] (--token T | --with-token)",
		Short: "Save a server's URL and API token for the other commands",
		Long: `Checks the token against the server (it must authenticate), then saves the server and
the token to $XDG_CONFIG_HOME/strata/config.json (default ~/.config/strata/config.json,
mode 0600). The server becomes the default of --server; the token is used for it
unless STRATA_TOKEN is set. A refused token saves nothing.

--with-token reads the token from standard input (keeps it out of the shell's history):
  strata login --server https://strata.example.com --with-token < token.txt`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if withToken == (token != "") {
				return &usageError{errors.New("pass the token with --token T, or on standard input with --with-token (one of them)")}
			}
			if withToken {
				line, err := bufio.NewReader(f.In).ReadString('\n')
				if err != nil && line == "" {
					return &usageError{fmt.Errorf("--with-token: read the token from standard input: %w", err)}
				}
				token = line
			}
			token = strings.TrimSpace(token)
			if token == "" {
				return &usageError{errors.New("the token is empty")}
			}
			server, cfg, err := resolveServer(a)
			if err != nil {
				return err
			}
			var res struct {
				Viewer struct {
					User  string `json:"user"`
					Admin bool   `json:"admin"`
				} `json:"viewer"`
			}
			if err := newAPIClient(server, token).do(c.Context(), `{ viewer { user admin } }`, nil, &res); err != nil {
				return fmt.Errorf("login to %s: %w (nothing was saved)", server, err)
			}
			path, err := configPath()
			if err != nil {
				return err
			}
			if cfg.Hosts == nil {
				cfg.Hosts = map[string]hostLogin{}
			}
			cfg.Server = server
			cfg.Hosts[server] = hostLogin{Token: token, User: res.Viewer.User}
			if err := cfg.save(path); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"server": server, "user": res.Viewer.User, "admin": res.Viewer.Admin, "config": path})
			}
			admin := ""
			if res.Viewer.Admin {
				admin = " (server admin)"
			}
			_, err = fmt.Fprintf(f.Out, "logged in to %s as %s%s; saved to %s\n", server, res.Viewer.User, admin, path)
			return err
		},
	}
	a.register(c, false)
	c.Flags().StringVar(&token, "token", "", "the API token")
	c.Flags().BoolVar(&withToken, "with-token", false, "read the token from standard input")
	return c
}

func newCmdLogout(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "logout [--server URL]",
		Short: "Forget the token saved for a server",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			server, cfg, err := resolveServer(a)
			if err != nil {
				return err
			}
			path, err := configPath()
			if err != nil {
				return err
			}
			if _, ok := cfg.Hosts[server]; !ok {
				return fmt.Errorf("not logged in to %s (nothing to forget)", server)
			}
			delete(cfg.Hosts, server)
			if cfg.Server == server {
				cfg.Server = ""
			}
			if err := cfg.save(path); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"server": server, "config": path})
			}
			_, err = fmt.Fprintf(f.Out, "logged out of %s\n", server)
			return err
		},
	}
	a.register(c, false)
	return c
}
