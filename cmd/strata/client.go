package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/spf13/cobra"

	"github.com/stratahq/strata/domain"
)

// The client commands (data, alias, exec) talk GraphQL over HTTP to a running 'strata
// serve'. This file holds what they share: the --server and --project flags, the token,
// the request plumbing and the errors.

const defaultServer = "http://127.0.0.1:8080"

// apiFlags are the flags every client command takes (persistent on its group).
type apiFlags struct {
	server  string
	project string
}

// register adds --server and, when withProject, --project to c's persistent flags.
func (a *apiFlags) register(c *cobra.Command, withProject bool) {
	c.PersistentFlags().StringVar(&a.server, "server", "",
		"URL of the strata server (env STRATA_SERVER; default: the server of 'strata login', else "+defaultServer+")")
	if withProject {
		c.PersistentFlags().StringVarP(&a.project, "project", "p", os.Getenv("STRATA_PROJECT"),
			"project slug or ID (env STRATA_PROJECT; default: the project 'strata project link' linked to this directory)")
	}
}

// apiClient is a GraphQL-over-HTTP client of one server with one token.
type apiClient struct {
	server string // without a trailing slash
	token  string
	http   *http.Client
}

// resolveServer returns the server to talk to: --server, else STRATA_SERVER, else the
// server of the last 'strata login', else defaultServer; and the configuration file.
func resolveServer(a *apiFlags) (string, clientConfig, error) {
	cfg, _, err := loadConfig()
	if err != nil {
		return "", cfg, err
	}
	server := a.server
	for _, s := range []string{os.Getenv("STRATA_SERVER"), cfg.Server, defaultServer} {
		if server == "" {
			server = s
		}
	}
	server = normalServer(server)
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", cfg, &usageError{fmt.Errorf("--server %q: want an http:// or https:// URL such as %s", server, defaultServer)}
	}
	return server, cfg, nil
}

// client returns a client for the server (see resolveServer) with the token from
// STRATA_TOKEN, else the one 'strata login' saved for that server, else the one in
// <data-dir>/admin-token.
func (f *factory) client(a *apiFlags) (*apiClient, error) {
	server, cfg, err := resolveServer(a)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(os.Getenv("STRATA_TOKEN"))
	if token == "" {
		token = cfg.Hosts[server].Token
	}
	if token == "" {
		b, err := os.ReadFile(f.adminTokenFile())
		switch {
		case err == nil:
			token = strings.TrimSpace(string(b))
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("read the API token: %w (log in with 'strata login', or set STRATA_TOKEN)", err)
		}
	}
	if token == "" {
		return nil, fmt.Errorf("no API token for %s: log in with 'strata login --server %s --token T', or set STRATA_TOKEN, or pass the --data-dir of the 'strata serve' you talk to ("+
			"on its first start it writes an admin token to <data-dir>/admin-token; looked in %s)", server, server, f.adminTokenFile())
	}
	return newAPIClient(server, token), nil
}

func newAPIClient(server, token string) *apiClient {
	return &apiClient{server: server, token: token, http: &http.Client{}}
}

// apiError is an error the API answered with.
type apiError struct {
	Code    string
	Message string
}

// codeHints say what to do next for each error code of the API.
var codeHints = map[string]string{
	"UNAUTHENTICATED": "log in again with 'strata login', or check STRATA_TOKEN (or <data-dir>/admin-token): the token is missing, revoked or for another server",
	"FORBIDDEN":       "ask an admin of the project for a role that allows this",
	"NOT_FOUND":       "check the ID or name; 'strata data ls' and 'strata exec list' show what exists",
	"CONFLICT":        "someone changed it at the same time, or the server is catching up: retry",
	"INVALID":         "check the arguments; --help lists them",
	"INTERNAL":        "the server failed: its log says why; retry, and report it if it persists",
}

func (e *apiError) Error() string {
	msg := e.Code + ": " + e.Message
	if h := codeHints[e.Code]; h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// firstError turns the API's errors into one error (the first; the count of the others).
func firstError(errs []gqlError) error {
	if len(errs) == 0 {
		return nil
	}
	e := &apiError{Code: errs[0].Extensions.Code, Message: errs[0].Message}
	if e.Code == "" {
		e.Code = "ERROR"
	}
	if len(errs) > 1 {
		e.Message += fmt.Sprintf(" (and %d more errors)", len(errs)-1)
	}
	return e
}

// unreachable explains a failed connection.
func (c *apiClient) unreachable(err error) error {
	return fmt.Errorf("cannot reach the strata server at %s: %w (start one with 'strata serve', or point --server or STRATA_SERVER at it)", c.server, err)
}

// do runs a query or mutation and decodes its data into out.
func (c *apiClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.send(req, out)
}

// send sends a GraphQL request and decodes the response's data into out.
func (c *apiClient) send(req *http.Request, out any) error {
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return req.Context().Err()
		}
		return c.unreachable(err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read the answer of %s: %w", c.server, err)
	}
	var res gqlResponse
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s answered %s, not GraphQL: %.200s (is --server a strata server?)", c.server, resp.Status, b)
	}
	if err := firstError(res.Errors); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", c.server, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Data, out)
}

// upload runs a mutation whose variable fileVar is the content of r, named name, as a
// GraphQL multipart request (streamed: the file is never held in memory).
func (c *apiClient) upload(ctx context.Context, query string, vars map[string]any, fileVar, name string, r io.Reader, out any) error {
	vars[fileVar] = nil
	ops, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("operations", string(ops)); err != nil {
				return err
			}
			if err := mw.WriteField("map", `{"0":["variables.`+fileVar+`"]}`); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("0", name)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, r); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err) // nil: EOF
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server+"/graphql", pr)
	if err != nil {
		_ = pr.CloseWithError(err) // ends the writer
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	err = c.send(req, out)
	_ = pr.CloseWithError(io.ErrClosedPipe) // ends the writer if the server answered early
	return err
}

// download opens GET path of the server with the token; the caller closes the body.
func (c *apiClient) download(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer func() { _ = resp.Body.Close() }() // an error answer, read whole below
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var res gqlResponse
	if json.Unmarshal(b, &res) == nil && len(res.Errors) > 0 {
		return nil, firstError(res.Errors)
	}
	return nil, fmt.Errorf("%s answered %s for %s", c.server, resp.Status, path)
}

// subscription is one graphql-transport-ws connection.
type subscription struct {
	conn *websocket.Conn
}

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe opens a graphql-transport-ws connection and starts the subscriptions ops
// (id → query with vars); read their messages with next.
func (c *apiClient) subscribe(ctx context.Context, ops map[string]map[string]any) (*subscription, error) {
	u := "ws" + strings.TrimPrefix(c.server, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: c.http})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.unreachable(err)
	}
	conn.SetReadLimit(16 << 20)
	s := &subscription{conn: conn}
	init, _ := json.Marshal(map[string]any{"Authorization": "Bearer " + c.token})
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		s.close()
		return nil, c.unreachable(err)
	}
	ictx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var ack wsMessage
	if err := wsjson.Read(ictx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		s.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &apiError{Code: "UNAUTHENTICATED", Message: "the server refused the subscription's token"}
	}
	for id, op := range ops {
		p, err := json.Marshal(op)
		if err != nil {
			s.close()
			return nil, err
		}
		if err := wsjson.Write(ctx, conn, wsMessage{ID: id, Type: "subscribe", Payload: p}); err != nil {
			s.close()
			return nil, c.unreachable(err)
		}
	}
	return s, nil
}

// next returns the next result of subscription id ("next", with its data decoded into
// the returned raw data), or done for a "complete"; an "error" message is an error.
func (s *subscription) next(ctx context.Context) (id string, data json.RawMessage, done bool, err error) {
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, s.conn, &m); err != nil {
			return "", nil, false, err
		}
		switch m.Type {
		case "ping":
			_ = wsjson.Write(ctx, s.conn, wsMessage{Type: "pong"}) // a failed write shows on the next read
		case "next":
			var res gqlResponse
			if err := json.Unmarshal(m.Payload, &res); err != nil {
				return "", nil, false, err
			}
			if err := firstError(res.Errors); err != nil {
				return m.ID, nil, false, err
			}
			return m.ID, res.Data, false, nil
		case "error":
			var errs []gqlError
			_ = json.Unmarshal(m.Payload, &errs) // an undecodable payload still ends it
			if err := firstError(errs); err != nil {
				return m.ID, nil, false, err
			}
			return m.ID, nil, false, &apiError{Code: "ERROR", Message: string(m.Payload)}
		case "complete":
			return m.ID, nil, true, nil
		}
	}
}

func (s *subscription) close() {
	_ = s.conn.Close(websocket.StatusNormalClosure, "") // best effort: the process is leaving
}

// projectClient returns a client for a's server and the ID of the project a names (see
// apiClient.project): what every command about one project starts with.
func (f *factory) projectClient(ctx context.Context, a *apiFlags) (*apiClient, string, error) {
	cl, err := f.client(a)
	if err != nil {
		return nil, "", err
	}
	pid, err := cl.project(ctx, a)
	if err != nil {
		return nil, "", err
	}
	return cl, pid, nil
}

// execClient is client then the execution ref names (see resolveExecution), read with fields.
func (f *factory) execClient(ctx context.Context, a *apiFlags, ref, fields string) (*apiClient, execInfo, error) {
	cl, err := f.client(a)
	if err != nil {
		return nil, execInfo{}, err
	}
	x, err := resolveExecution(ctx, cl, a, ref, fields)
	if err != nil {
		return nil, execInfo{}, err
	}
	return cl, x, nil
}

// project resolves --project (a slug or an ID), else the project linked to the working
// directory (see 'strata project link'), to a project ID.
func (c *apiClient) project(ctx context.Context, a *apiFlags) (string, error) {
	ref := strings.TrimSpace(a.project)
	if ref == "" {
		link, _, ok, err := findProjectLink()
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &usageError{errors.New("--project is required: pass the project's slug or ID, set STRATA_PROJECT, or link this directory with 'strata project link'")}
		}
		ref = link.Project
	}
	if id, err := domain.ParseProjectID(ref); err == nil {
		return string(id), nil
	}
	var res struct {
		Projects []struct{ ID, Slug string }
	}
	if err := c.do(ctx, `{ projects { id slug } }`, nil, &res); err != nil {
		return "", err
	}
	slugs := make([]string, 0, len(res.Projects))
	for _, p := range res.Projects {
		if p.Slug == ref {
			return p.ID, nil
		}
		slugs = append(slugs, p.Slug)
	}
	if len(slugs) == 0 {
		return "", fmt.Errorf("no project %q: you are a member of no project yet (create one with 'strata project create')", ref)
	}
	return "", fmt.Errorf("no project %q among yours: %s", ref, strings.Join(slugs, ", "))
}
