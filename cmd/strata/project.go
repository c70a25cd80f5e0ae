package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// projectInfo is the part of the API's Project the project commands show.
type projectInfo struct {
	ID             string    `json:"id"`
	Slug           string    `json:"slug"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"createdAt"`
	Repository     *string   `json:"repository"`
	Environments   []string  `json:"environments"`
	Role           string    `json:"role"`
	ExecutionCount int       `json:"executionCount"`
	Members        []struct {
		User string `json:"user"`
		Role string `json:"role"`
	} `json:"members"`
}

const projectFields = `id slug name createdAt repository environments role executionCount members { user role }`

func newCmdProject(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "project",
		Short: "Create, list and inspect projects; link a working directory to one",
		Long: `A project holds executions, datums, aliases and datasets, and links to the git
repository its code comes from.

'strata project link' writes ` + projectLinkFile + ` at the top of the git working
tree (or in the current directory outside git); every command run in that tree then
defaults --project to the linked project.`,
	}
	a.register(c, true)
	c.AddCommand(newCmdProjectCreate(f, a), newCmdProjectList(f, a), newCmdProjectLink(f, a), newCmdProjectStatus(f, a))
	return c
}

func newCmdProjectCreate(f *factory, a *apiFlags) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "create SLUG [--name NAME]",
		Short: "Create a project; you become its admin",
		Args:  exactArgs(1, "SLUG"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			if name == "" {
				name = args[0]
			}
			var res struct {
				CreateProject struct {
					ID       string `json:"id"`
					Position uint64 `json:"position"`
				} `json:"createProject"`
			}
			if err := cl.do(c.Context(), `mutation($in: CreateProjectInput!) { createProject(input: $in) { id position } }`,
				map[string]any{"in": map[string]any{"slug": args[0], "name": name}}, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(map[string]any{"id": res.CreateProject.ID, "slug": args[0], "name": name, "position": res.CreateProject.Position})
			}
			_, err = fmt.Fprintf(f.Out, "created project %s (%s)\nlink a git working directory to it: strata project link %s\n", args[0], res.CreateProject.ID, args[0])
			return err
		},
	}
	c.Flags().StringVar(&name, "name", "", "the project's display name (default: the slug)")
	return c
}

func newCmdProjectList(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the projects you are a member of",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			var res struct {
				Projects []projectInfo `json:"projects"`
			}
			if err := cl.do(c.Context(), `{ projects { `+projectFields+` } }`, nil, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.Projects)
			}
			if len(res.Projects) == 0 {
				_, err := fmt.Fprintln(f.Out, "no projects yet: create one with 'strata project create SLUG'")
				return err
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SLUG\tNAME\tROLE\tEXECUTIONS\tREPOSITORY\tID")
			for _, p := range res.Projects {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", p.Slug, p.Name, strings.ToLower(p.Role), p.ExecutionCount, nilDash(p.Repository), p.ID)
			}
			return w.Flush()
		},
	}
}

func newCmdProjectLink(f *factory, a *apiFlags) *cobra.Command {
	var repo string
	c := &cobra.Command{
		Use:   "link [PROJECT] [--repository URL]",
		Short: "Link this working directory and its git repository to a project",
		Long: `Links the project (PROJECT, else --project) to the repository of the current git
working tree: its 'origin' remote, or the working tree itself as a file:// URL when it
has none (--repository overrides). Then writes ` + projectLinkFile + ` at the top of the
working tree, so commands run anywhere in it default --project to this project; add it
to .gitignore if you do not want to commit it. Outside git it only writes the file in
the current directory (and links no repository unless --repository is given).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				a.project = args[0]
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			p, err := getProject(c.Context(), cl, pid)
			if err != nil {
				return err
			}
			root, inGit := gitTopLevel(c.Context())
			if !inGit {
				if root, err = os.Getwd(); err != nil {
					return err
				}
			}
			if repo == "" && inGit {
				repo = gitRemote(c.Context(), root)
			}
			if repo != "" {
				if err := cl.do(c.Context(), `mutation($p: ID!, $url: String!) { linkRepository(project: $p, url: $url) { position } }`,
					map[string]any{"p": pid, "url": repo}, nil); err != nil {
					return fmt.Errorf("link repository %s: %w", repo, err)
				}
			}
			b, _ := json.MarshalIndent(projectLink{Project: p.ID, Slug: p.Slug, Server: cl.server}, "", "  ")
			path := filepath.Join(root, projectLinkFile)
			if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
				return fmt.Errorf("write the project link: %w", err)
			}
			if f.JSON {
				return f.printJSON(map[string]any{"project": p.ID, "slug": p.Slug, "repository": repo, "link": path})
			}
			if repo != "" {
				fmt.Fprintf(f.Out, "linked project %s to repository %s\n", p.Slug, repo)
			}
			_, err = fmt.Fprintf(f.Out, "commands in %s now use project %s (%s)\n", root, p.Slug, path)
			return err
		},
	}
	c.Flags().StringVar(&repo, "repository", "", "the repository URL to link (default: git remote 'origin', else file:// of the working tree)")
	return c
}

func newCmdProjectStatus(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status [PROJECT]",
		Short: "Show a project (default: the linked one): repository, environments, members, executions",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				a.project = args[0]
			}
			cl, pid, err := f.projectClient(c.Context(), a)
			if err != nil {
				return err
			}
			p, err := getProject(c.Context(), cl, pid)
			if err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(p)
			}
			members := make([]string, len(p.Members))
			for i, m := range p.Members {
				members[i] = m.User + " (" + strings.ToLower(m.Role) + ")"
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			for _, kv := range [][2]string{
				{"project", p.Slug + " (" + p.ID + ")"}, {"name", p.Name}, {"your role", strings.ToLower(p.Role)},
				{"repository", nilDash(p.Repository)}, {"environments", noneIfEmpty(p.Environments)},
				{"members", strings.Join(members, ", ")}, {"executions", fmt.Sprint(p.ExecutionCount)},
				{"created", p.CreatedAt.Local().Format(time.DateTime)},
			} {
				fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
			}
			if link, path, ok, _ := findProjectLink(); ok && link.Project == p.ID {
				fmt.Fprintf(w, "linked here:\t%s\n", path)
			}
			return w.Flush()
		},
	}
}

// getProject reads project id.
func getProject(ctx context.Context, cl *apiClient, id string) (projectInfo, error) {
	var res struct {
		Project projectInfo `json:"project"`
	}
	err := cl.do(ctx, `query($id: ID!) { project(id: $id) { `+projectFields+` } }`, map[string]any{"id": id}, &res)
	return res.Project, err
}

func nilDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}

// gitIn runs git with args in dir and returns its trimmed standard output; the error
// carries git's standard error.
func gitIn(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitTopLevel returns the top of the git working tree holding the current directory;
// ok is false outside one (or without git).
func gitTopLevel(ctx context.Context) (string, bool) {
	top, err := gitIn(ctx, ".", "rev-parse", "--show-toplevel")
	return top, err == nil && top != ""
}

// gitRemote returns the URL of the working tree's 'origin' remote, or its file:// URL
// when it has none.
func gitRemote(ctx context.Context, top string) string {
	if u, err := gitIn(ctx, top, "remote", "get-url", "origin"); err == nil && u != "" {
		return u
	}
	return "file://" + top
}
