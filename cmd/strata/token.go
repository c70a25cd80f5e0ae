package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// tokenInfo is the API's Token (never its secret).
type tokenInfo struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Admin     bool      `json:"admin"`
	CreatedAt time.Time `json:"createdAt"`
	Revoked   bool      `json:"revoked"`
}

func newCmdToken(f *factory) *cobra.Command {
	a := &apiFlags{}
	c := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: `An API token authenticates a user (or a script acting as one) to the server: pass it
in STRATA_TOKEN or save it with 'strata login'. A token's secret is shown once, when
it is created; the server keeps only its hash.`,
	}
	a.register(c, false)
	c.AddCommand(newCmdTokenCreate(f, a), newCmdTokenList(f, a), newCmdTokenRevoke(f, a))
	return c
}

func newCmdTokenCreate(f *factory, a *apiFlags) *cobra.Command {
	var (
		name, user string
		admin      bool
	)
	c := &cobra.Command{
		Use:   "create --name N [--user U] [--admin]",
		Short: "Create a token and print its secret (shown only this once)",
		Long: `Creates a token named --name for you, or for --user (server admins only); --admin
makes it a server-admin token (server admins only). The secret goes to standard
output, once: store it now. What a token may do in a project follows its user's role
there.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return &usageError{errors.New("--name is required: say what the token is for (such as ci or laptop), so that 'token list' tells tokens apart")}
			}
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			in := map[string]any{"name": name, "admin": admin}
			if user != "" {
				in["user"] = user
			}
			var res struct {
				CreateToken struct {
					ID       string `json:"id"`
					User     string `json:"user"`
					Secret   string `json:"secret"`
					Position uint64 `json:"position"`
				} `json:"createToken"`
			}
			if err := cl.do(c.Context(), `mutation($in: CreateTokenInput!) { createToken(input: $in) { id user secret position } }`,
				map[string]any{"in": in}, &res); err != nil {
				return err
			}
			t := res.CreateToken
			fmt.Fprintf(f.Err, "created token %s (%s) for %s: its secret follows and is NOT shown again; store it now (use it as STRATA_TOKEN, or 'strata login')\n", name, t.ID, t.User)
			if f.JSON {
				return f.printJSON(map[string]any{"id": t.ID, "name": name, "user": t.User, "admin": admin, "secret": t.Secret, "position": t.Position})
			}
			_, err = fmt.Fprintln(f.Out, t.Secret)
			return err
		},
	}
	c.Flags().StringVar(&name, "name", "", "what the token is for (required)")
	c.Flags().StringVar(&user, "user", "", "whose token (default: yours; another user's needs a server-admin token)")
	c.Flags().BoolVar(&admin, "admin", false, "a server-admin token (needs a server-admin token)")
	return c
}

func newCmdTokenList(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List your tokens (every token, for a server admin), oldest first",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			var res struct {
				Tokens []tokenInfo `json:"tokens"`
			}
			if err := cl.do(c.Context(), `{ tokens { id user name admin createdAt revoked } }`, nil, &res); err != nil {
				return err
			}
			if f.JSON {
				return f.printJSON(res.Tokens)
			}
			w := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tUSER\tADMIN\tCREATED\tSTATE")
			for _, t := range res.Tokens {
				admin, state := "no", "active"
				if t.Admin {
					admin = "yes"
				}
				if t.Revoked {
					state = "revoked"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.User, admin, t.CreatedAt.Local().Format(time.DateTime), state)
			}
			return w.Flush()
		},
	}
}

func newCmdTokenRevoke(f *factory, a *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: it is refused from now on",
		Args:  exactArgs(1, "ID ('strata token list' shows them)"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := f.client(a)
			if err != nil {
				return err
			}
			var res struct {
				RevokeToken struct {
					Position uint64 `json:"position"`
				} `json:"revokeToken"`
			}
			if err := cl.do(c.Context(), `mutation($id: ID!) { revokeToken(id: $id) { position } }`, map[string]any{"id": args[0]}, &res); err != nil {
				return err
			}
			pos := res.RevokeToken.Position
			if f.JSON {
				return f.printJSON(map[string]any{"id": args[0], "position": pos})
			}
			if pos == 0 {
				_, err = fmt.Fprintf(f.Out, "token %s was already revoked\n", args[0])
				return err
			}
			_, err = fmt.Fprintf(f.Out, "revoked token %s: the server refuses it from now on\n", args[0])
			return err
		},
	}
}
