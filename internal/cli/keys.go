package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/sign"
)

func newKeysCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage release signing keys",
		Args:  cobra.NoArgs,
	}
	var out, name string
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Generate a release signing key pair in cosign's format",
		Long: `Generate writes an ECDSA P-256 key pair in cosign's format: NAME.key, the
private key encrypted with the password from SLIPWAY_KEY_PASSWORD or
COSIGN_PASSWORD, and NAME.pub, the public key to list under
signing.trustedKeys. Existing files are never overwritten. Keys made by
cosign generate-key-pair work just the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password, err := sign.Password(o.getenv)
			if err != nil {
				return usagef("%v", err)
			}
			kp, err := sign.GenerateKeyPair(password)
			if err != nil {
				return err
			}
			priv := filepath.Join(out, name+".key")
			pub := filepath.Join(out, name+".pub")
			for _, p := range []string{priv, pub} {
				if _, err := os.Stat(p); err == nil {
					return fmt.Errorf("%s exists: keys are never overwritten", p)
				}
			}
			if err := atomicfile.CreateNew(priv, kp.Private, 0o600); err != nil {
				return keyWriteErr(priv, err)
			}
			if err := atomicfile.CreateNew(pub, kp.Public, 0o644); err != nil {
				return keyWriteErr(pub, err)
			}
			fmt.Fprintf(o.stdout, "private key %s (encrypted; keep it out of the repository)\n", priv)
			fmt.Fprintf(o.stdout, "public key  %s\n", pub)
			fmt.Fprintf(o.stdout, "key id      %s\n", kp.KeyID)
			return nil
		},
	}
	gen.Flags().StringVar(&out, "out", ".", "directory to write the key pair to")
	gen.Flags().StringVar(&name, "name", "cosign", "file name of the key pair, without extension")
	cmd.AddCommand(gen)
	return cmd
}

func keyWriteErr(path string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: keys are never overwritten", path)
	}
	return fmt.Errorf("write %s: %w", path, err)
}
