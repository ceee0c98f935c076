package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
)

type signOptions struct {
	Key              string
	CertificateChain []string
	Output           string
	IgnorePaths      []string
	Hash             string
	Serialization    string
	ShardSize        int64
	AllowSymlinks    bool
}

func (o *signOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Key, "key", "", "PEM private key to sign with (ECDSA P-256/384/521 or Ed25519; required)")
	f.StringSliceVar(&o.CertificateChain, "certificate-chain", nil, "PEM certificates for the certificate method: the signing certificate first, then its chain (repeatable)")
	f.StringVarP(&o.Output, "output", "o", "", "where to write the signature (default TARGET/model.sig for a directory; required for a single file)")
	f.StringArrayVar(&o.IgnorePaths, "ignore-paths", nil, "leave this path out of the model (relative to the current directory or to the model; repeatable)")
	f.StringVar(&o.Hash, "hash", manifest.HashSHA256, "hash: sha256, blake2b or blake3")
	f.StringVar(&o.Serialization, "serialization", manifest.MethodFiles, "files (one digest per file) or shards (one per byte range: parallel inside big files)")
	f.Int64Var(&o.ShardSize, "shard-size", manifest.DefaultShardSize, "shard size in bytes (shards only)")
	f.BoolVar(&o.AllowSymlinks, "allow-symlinks", false, "hash a symbolic link's target under the link's name (links out of the model are refused)")
	cmd.MarkFlagRequired("key")
	cmd.MarkFlagFilename("key")
	cmd.MarkFlagFilename("certificate-chain")
}

func newSign() *cobra.Command {
	o := &signOptions{}
	cmd := &cobra.Command{
		Use:   "sign --key PEM [flags] TARGET",
		Short: "Sign a model in the OpenSSF model-signing (OMS) format",
		Long: `Sign hashes every file of a model (a folder, or one file) and writes an OMS
signature (a Sigstore bundle with a DSSE-signed in-toto statement) that
model_signing and hallmark verify. Key and certificate methods work offline.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := args[0]
			switch o.Hash {
			case manifest.HashSHA256, manifest.HashBLAKE2b, manifest.HashBLAKE3:
			default:
				return usagef("--hash %q: want sha256, blake2b or blake3", o.Hash)
			}
			if o.Serialization != manifest.MethodFiles && o.Serialization != manifest.MethodShards {
				return usagef("--serialization %q: want files or shards", o.Serialization)
			}
			if o.ShardSize <= 0 {
				return usagef("--shard-size must be positive")
			}
			st, err := os.Stat(target)
			if err != nil {
				return &incompleteError{err}
			}
			out := o.Output
			if out == "" {
				if !st.IsDir() {
					return usagef("%s is a single file: say where the signature goes with --output", target)
				}
				out = filepath.Join(target, "model.sig")
			}
			keyPEM, err := os.ReadFile(o.Key)
			if err != nil {
				return usagef("--key: %v", err)
			}
			var signer verify.Signer
			if len(o.CertificateChain) > 0 {
				var chain [][]byte
				for _, p := range o.CertificateChain {
					data, err := os.ReadFile(p)
					if err != nil {
						return usagef("--certificate-chain: %v", err)
					}
					chain = append(chain, data)
				}
				signer, err = verify.NewCertificateSigner(keyPEM, chain...)
			} else {
				signer, err = verify.NewKeySigner(keyPEM)
			}
			if err != nil {
				return usagef("%v", err)
			}
			opts := manifest.Options{Method: o.Serialization, Hash: o.Hash, AllowSymlinks: o.AllowSymlinks, IgnoreGitPaths: true, IgnorePaths: modelIgnores(target, o.IgnorePaths)}
			if o.Serialization == manifest.MethodShards {
				opts.ShardSize = o.ShardSize
			}
			if st.IsDir() {
				if rel := insideModel(target, out); rel != "" {
					opts.IgnorePaths = append(opts.IgnorePaths, rel)
				}
			}
			m, err := manifest.Compute(cmd.Context(), target, opts)
			if err != nil {
				return &incompleteError{fmt.Errorf("hashing %s: %w", target, err)}
			}
			payload, err := manifest.Statement(m, manifest.SubjectName(target))
			if err != nil {
				return &incompleteError{err}
			}
			bundle, err := verify.Sign(payload, signer)
			if err != nil {
				return &incompleteError{fmt.Errorf("signing: %w", err)}
			}
			if err := os.WriteFile(out, bundle, 0o644); err != nil {
				return &incompleteError{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: signed %d resources (%s/%s, %d bytes) -> %s\n", target, len(m.Resources), opts.Method, opts.Hash, m.Bytes, out)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}
