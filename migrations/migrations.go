// Package migrations holds the SQL schema of sview as golang-migrate files and applies them.
package migrations

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// scheme
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed *.sql
var files embed.FS

// ErrDirty means a migration failed halfway; an operator has to inspect the schema and
// `sview migrate force` a version.
var ErrDirty = errors.New("database schema is dirty")

// ErrBehind means the database has not been migrated to the version this binary expects.
var ErrBehind = errors.New("database schema is behind")

// Latest is the highest version embedded in this binary.
func Latest() uint {
	entries, err := fs.Glob(files, "*.up.sql")
	if err != nil || len(entries) == 0 {
		return 0
	}
	sort.Strings(entries)
	v, _ := strconv.ParseUint(strings.SplitN(entries[len(entries)-1], "_", 2)[0], 10, 64)
	return uint(v)
}

func open(databaseURL string) (*migrate.Migrate, error) {
	src, err := iofs.New(files, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		u.Scheme = "pgx5"
	case "pgx5":
	default:
		return nil, fmt.Errorf("database URL scheme %q: want postgres://", u.Scheme)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return nil, fmt.Errorf("connect for migrations: %w", err)
	}
	return m, nil
}

func closeMigrate(m *migrate.Migrate, err error) error {
	srcErr, dbErr := m.Close()
	return errors.Join(err, srcErr, dbErr)
}

// Up applies every pending migration. Nothing to do is success.
func Up(databaseURL string) (err error) {
	m, err := open(databaseURL)
	if err != nil {
		return err
	}
	defer func() { err = closeMigrate(m, err) }()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return wrapDirty(m, "migrate up", err)
	}
	return nil
}

// Down reverts the given number of migrations; steps <= 0 reverts all of them.
func Down(databaseURL string, steps int) (err error) {
	m, err := open(databaseURL)
	if err != nil {
		return err
	}
	defer func() { err = closeMigrate(m, err) }()
	if steps <= 0 {
		err = m.Down()
	} else {
		err = m.Steps(-steps)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return wrapDirty(m, "migrate down", err)
	}
	return nil
}

// Force marks the schema as being at version without running anything, clearing a dirty flag.
func Force(databaseURL string, version int) (err error) {
	m, err := open(databaseURL)
	if err != nil {
		return err
	}
	defer func() { err = closeMigrate(m, err) }()
	if err := m.Force(version); err != nil {
		return fmt.Errorf("force version %d: %w", version, err)
	}
	return nil
}

// Version reports the applied version (0 when none) and whether it is dirty.
func Version(databaseURL string) (version uint, dirty bool, err error) {
	m, err := open(databaseURL)
	if err != nil {
		return 0, false, err
	}
	defer func() { err = closeMigrate(m, err) }()
	version, dirty, err = m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	return version, dirty, nil
}

// Check returns ErrDirty or ErrBehind when the database is not at Latest.
func Check(version uint, dirty bool) error {
	if dirty {
		return fmt.Errorf("%w at version %d: fix it by hand, then run `sview migrate force %d`", ErrDirty, version, version)
	}
	if version < Latest() {
		return fmt.Errorf("%w: version %d, this build needs %d: run `sview migrate up`", ErrBehind, version, Latest())
	}
	return nil
}

func wrapDirty(m *migrate.Migrate, what string, err error) error {
	if v, dirty, verr := m.Version(); verr == nil && dirty {
		return fmt.Errorf("%s: %w (%w at version %d: fix it by hand, then `sview migrate force %d`)", what, err, ErrDirty, v, v-1)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Fingerprint identifies the embedded migration set, so test templates built from an older set
// are never reused.
func Fingerprint() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
