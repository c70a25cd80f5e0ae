package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCmdCompletion(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Prints the script that makes your shell complete strata's commands and flags.

  bash:       source <(strata completion bash)
              (for every session: strata completion bash > /etc/bash_completion.d/strata)
  zsh:        strata completion zsh > "${fpath[1]}/_strata"   (then start a new shell)
  fish:       strata completion fish > ~/.config/fish/completions/strata.fish
  powershell: strata completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs(1, "a shell: bash, zsh, fish or powershell"),
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(f.Out, true)
			case "zsh":
				return root.GenZshCompletion(f.Out)
			case "fish":
				return root.GenFishCompletion(f.Out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(f.Out)
			}
			return &usageError{fmt.Errorf("shell %q: want bash, zsh, fish or powershell", args[0])}
		},
	}
}
