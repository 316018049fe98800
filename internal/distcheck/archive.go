package distcheck

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Zip writes dir as <outDir>/<id>-<version>.zip, the layout the validator expects: one top
// folder named by the plugin id holding the contents of dist, file modes kept (the backend
// binaries must stay 0755). Debug leftovers (standalone.txt, pid.txt) are never packed.
// It returns the zip's path.
func Zip(dir, outDir string) (string, error) {
	p, err := readPluginJSON(os.DirFS(dir))
	if err != nil {
		return "", fmt.Errorf("read %s/plugin.json: %w", dir, err)
	}
	if p.ID == "" || p.Info == nil || p.Info.Version == "" {
		return "", fmt.Errorf("%s/plugin.json lacks id or info.version", dir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil { // #nosec G301 -- release output: the zip is for others to read
		return "", fmt.Errorf("create %s: %w", outDir, err)
	}
	out := filepath.Join(outDir, p.ID+"-"+p.Info.Version+".zip")
	f, err := os.Create(out) // #nosec G304 -- outDir/<id>-<version>.zip, named here
	if err != nil {
		return "", fmt.Errorf("create zip: %w", err)
	}
	zw := zip.NewWriter(f)
	walkErr := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, name)
		if err != nil || rel == "." {
			return err
		}
		if base := d.Name(); base == "standalone.txt" || base == "pid.txt" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name = p.ID + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
			_, err = zw.CreateHeader(hdr)
			return err
		}
		hdr.Method = zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		src, err := os.Open(name) // #nosec G122 G304 -- a file of the dist directory we just built, read to pack it
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, src)
		return err
	})
	err = errors.Join(walkErr, zw.Close(), f.Close())
	if err != nil {
		_ = os.Remove(out)
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	return out, nil
}
