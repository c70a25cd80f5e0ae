package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The client's configuration file, $XDG_CONFIG_HOME/strata/config.json (default
// ~/.config/strata/config.json), holds what 'strata login' saved: the server logged in to
// last and a token per server. It is written atomically with mode 0600 in a 0700
// directory, for it holds secrets.

// clientConfig is the configuration file's content.
type clientConfig struct {
	// Server is the server logged in to last: the default of --server.
	Server string `json:"server,omitempty"`
	// Hosts holds the login of each server, by URL (without a trailing slash).
	Hosts map[string]hostLogin `json:"hosts,omitempty"`
}

// hostLogin is the login of one server.
type hostLogin struct {
	Token string `json:"token"`
	User  string `json:"user,omitempty"`
}

// configPath returns where the configuration file is.
func configPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the configuration directory: %w (set XDG_CONFIG_HOME)", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "strata", "config.json"), nil
}

// loadConfig reads the configuration file; a missing file is an empty configuration.
func loadConfig() (clientConfig, string, error) {
	path, err := configPath()
	if err != nil {
		return clientConfig{}, "", err
	}
	var cfg clientConfig
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return cfg, path, nil
	case err != nil:
		return cfg, path, fmt.Errorf("read the configuration: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, path, fmt.Errorf("%s is not valid JSON: %w (fix it, or delete it and log in again)", path, err)
	}
	return cfg, path, nil
}

// save writes cfg to path atomically (a temporary file renamed over it), mode 0600, in a
// directory of mode 0700.
func (cfg clientConfig) save(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save the configuration: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json") // mode 0600
	if err != nil {
		return fmt.Errorf("save the configuration: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save the configuration to %s: %w", path, err)
	}
	return nil
}

// normalServer is a server URL as the configuration keys it: without a trailing slash.
func normalServer(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }

// projectLinkFile is the file 'strata project link' writes at the root of a working
// directory (the git repository's top level, or the current directory outside git).
const projectLinkFile = ".strata-project"

// projectLink is the content of projectLinkFile.
type projectLink struct {
	Project string `json:"project"`
	Slug    string `json:"slug"`
	Server  string `json:"server,omitempty"`
}

// findProjectLink looks for projectLinkFile in the current directory and its parents; ok
// is false when there is none.
func findProjectLink() (link projectLink, path string, ok bool, err error) {
	dir, err := os.Getwd()
	if err != nil {
		return projectLink{}, "", false, err
	}
	for {
		path = filepath.Join(dir, projectLinkFile)
		b, err := os.ReadFile(path)
		if err == nil {
			if err := json.Unmarshal(b, &link); err != nil || link.Project == "" {
				return projectLink{}, path, false, fmt.Errorf("%s is not a project link: run 'strata project link' again", path)
			}
			return link, path, true, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return projectLink{}, path, false, fmt.Errorf("read the project link: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return projectLink{}, "", false, nil
		}
		dir = parent
	}
}
